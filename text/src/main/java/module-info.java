/** Text in and out: Hugging Face and GGUF tokenizers, the streaming detokenizer, Jinja chat templates. */
module io.strata.text {
    requires com.fasterxml.jackson.databind;
    requires jinjava;
    requires java.desktop; // java.beans, for Jinjava's bean introspection of template values

    exports io.strata.text;
    exports io.strata.text.chat;
}
