package io.strata.text.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real chat templates of Qwen3 (tokenizer_config.json), Mixtral-8x7B-Instruct v0.1 and GPT-OSS
 * (chat_template.jinja), rendered for short conversations. Each expected prompt is worked out by hand from the
 * template's logic; the comments say which branches produce it.
 */
class ChatTemplateTest {
    private static final ZonedDateTime DAY = ZonedDateTime.of(2025, 8, 5, 12, 0, 0, 0, ZoneOffset.UTC);

    private static final Map<String, Tokenizer> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    private static Tokenizer tokenizer(String name) {
        return LOADED.computeIfAbsent(name, n -> Tokenizer.fromDirectory(TestData.dir("tokenizers/" + n)));
    }

    private static ChatTemplate template(Tokenizer t) {
        return ChatTemplate.of(t).orElseThrow();
    }

    @Test
    void qwen3DropsEarlierThinkingAndOpensTheAssistantTurn() {
        Tokenizer t = tokenizer("qwen3");
        // system first: rendered in the non-tools branch; the assistant turn precedes the last user query, so
        // its <think> part is split off and only the text after </think> (lstripped) is kept
        String prompt = template(t).render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"),
                ChatMessage.assistant("<think>\nhmm\n</think>\n\nHello!"), ChatMessage.user("Bye")), true, t);
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n"
                + "<|im_start|>assistant\n", prompt);
    }

    @Test
    void qwen3KeepsTheThinkingOfTheFinalAssistantTurn() {
        Tokenizer t = tokenizer("qwen3");
        // the assistant message is after the last query and loop.last: reasoning_content is the text between
        // <think> and </think> stripped of newlines, re-wrapped as <think>\n...\n</think>\n\n
        String prompt = template(t).render(List.of(ChatMessage.user("2+2?"),
                ChatMessage.assistant("<think>\nadd\n</think>\n\n4")), false, t);
        assertEquals("<|im_start|>user\n2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nadd\n</think>\n\n4<|im_end|>\n", prompt);
    }

    @Test
    void qwen3WithThinkingDisabledAndTools() {
        Tokenizer t = tokenizer("qwen3");
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", Map.of("city", Map.of("type", "string")));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("parameters", params);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        String prompt = template(t).render(List.of(ChatMessage.user("Weather in Oslo?")), true, "", "<|im_end|>",
                Map.of("tools", List.of(tool), "enable_thinking", false));
        // tools branch: the system block lists each tool as Python json.dumps output (", " and ": " separators);
        // enable_thinking is false: an empty think block follows the generation prompt
        assertEquals("<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query."
                + "\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", "
                + "\"properties\": {\"city\": {\"type\": \"string\"}}}}}\n</tools>\n\n"
                + "For each function call, return a json object with function name and arguments within "
                + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
                + "<args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Oslo?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\n", prompt);
    }

    @Test
    void mixtralInstFormatWithBosAndEos() {
        Tokenizer t = tokenizer("mistral-sp32k");
        String prompt = template(t).render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"),
                ChatMessage.user("Bye")), true, t);
        // bos_token, then [INST] user [/INST] and assistant + eos_token, alternating; no generation prompt exists
        assertEquals("<s>[INST] Hi [/INST]Hello!</s>[INST] Bye [/INST]", prompt);
        // the prompt's <s> and </s> are the special tokens when encoded
        int[] ids = t.encode(prompt, false);
        assertEquals(1, ids[0]);
        assertTrue(java.util.Arrays.stream(ids).anyMatch(id -> id == 2));
    }

    @Test
    void mixtralRefusesRolesThatDoNotAlternate() {
        Tokenizer t = tokenizer("mistral-sp32k");
        TokenizerException e = assertThrows(TokenizerException.class, () -> template(t).render(
                List.of(ChatMessage.assistant("Hello"), ChatMessage.user("Hi")), true, t));
        assertTrue(e.getMessage().endsWith("the chat template refused the conversation: Conversation roles must "
                + "alternate user/assistant/user/assistant/..."), e.getMessage());
        assertTrue(e.getMessage().contains("chat_template"), e.getMessage());
    }

    @Test
    void gptOssHarmonyFormat() {
        Tokenizer t = tokenizer("gpt-oss");
        String prompt = template(t).render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"),
                ChatMessage.assistant("Hello!"), ChatMessage.user("Bye")), true, "", "", Map.of("now", DAY));
        // system message built by build_system_message (default identity, strftime_now date, medium effort);
        // the first (system) message becomes the developer "# Instructions"; earlier assistant turns go to the
        // final channel; the generation prompt is <|start|>assistant
        assertEquals("<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
                + "Knowledge cutoff: 2024-06\nCurrent date: 2025-08-05\n\nReasoning: medium\n\n"
                + "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
                + "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|>"
                + "<|start|>user<|message|>Hi<|end|>"
                + "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>"
                + "<|start|>user<|message|>Bye<|end|>"
                + "<|start|>assistant", prompt);
    }

    @Test
    void gptOssRendersToolsAsTypeScript() {
        Tokenizer t = tokenizer("gpt-oss");
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("city", Map.of("type", "string", "description", "City name"));
        props.put("unit", Map.of("type", "string", "enum", List.of("c", "f")));
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", props);
        params.put("required", List.of("city"));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("description", "Get the weather");
        fn.put("parameters", params);
        String prompt = template(t).render(List.of(ChatMessage.user("Oslo?")), true, "", "",
                Map.of("now", DAY, "tools", List.of(Map.of("type", "function", "function", fn)),
                        "reasoning_effort", "low"));
        // render_tool_namespace: "// description", then one line per parameter; city is required (no "?") and a
        // string; unit is optional and its enum is rendered as a union of string literals
        assertEquals("<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
                + "Knowledge cutoff: 2024-06\nCurrent date: 2025-08-05\n\nReasoning: low\n\n"
                + "# Valid channels: analysis, commentary, final. Channel must be included for every message.\n"
                + "Calls to these tools must go to the commentary channel: 'functions'.<|end|>"
                + "<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
                + "// Get the weather\ntype get_weather = (_: {\n// City name\ncity: string,\nunit?: \"c\" | \"f\",\n"
                + "}) => any;\n\n} // namespace functions<|end|>"
                + "<|start|>user<|message|>Oslo?<|end|><|start|>assistant", prompt);
    }

    @Test
    void pythonStringMethodsAndSlices() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages[::-1] %}{{ m.content.split(',')[-1].strip().upper() }}"
                + "{{ '|' if not loop.last }}{% endfor %}{% set ns = namespace(n=messages|length - 1) %}:{{ ns.n }}"
                + ":{{ 'a-b'.replace('-', '+') }}:{{ messages[0].get('missing', 'dflt') }}"
                + ":{{ {'k': [1, 'x'], 'u': none}|tojson }}", "test");
        assertEquals("D|B:1:a+b:dflt:{\"k\": [1, \"x\"], \"u\": null}",
                t.render(List.of(ChatMessage.user("a, b "), ChatMessage.user("c,d")), false, "", "", Map.of()));
    }

    @Test
    void templateErrorsAreOneLineWithTheName() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> ChatTemplate.of("{{ messages[::2] }}", "model/tokenizer_config.json chat_template"));
        assertEquals("model/tokenizer_config.json chat_template: chat template: slice with a step other than [::-1] "
                + "is not supported: [::2]", e.getMessage());
        TokenizerException bad = assertThrows(TokenizerException.class,
                () -> ChatTemplate.of("{% if %}", "t").render(List.of(), false, "", "", Map.of()));
        assertTrue(bad.getMessage().startsWith("t: cannot render the chat template: line 1: "), bad.getMessage());
        assertTrue(!bad.getMessage().contains("\n"));
    }
}
