package io.strata.tools.generate;

import io.strata.kernels.decoder.ForwardStep;
import io.strata.text.TokenizerException;
import io.strata.text.chat.ChatMessage;
import io.strata.text.chat.ChatTemplate;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A conversation over one {@link DecodeSession}: each turn renders the whole conversation with the model's chat
 * template but feeds only what is new since the last turn, so the KV cache of earlier turns is reused and positions
 * keep growing.
 *
 * <p>What the KV cache holds is tracked as template text: the last rendered prompt, plus the reply as the template
 * will see it (the decoded content, special tokens written out), plus the text of the stop token that ended it.
 * The next rendering must start with exactly that text; then only the rest is encoded and fed, after the reply's
 * last sampled token (never fed yet). The rest starts right after a special token in every usual template (the EOS
 * or end-of-turn marker), where tokenizers split before encoding, so its ids are the ones a full encoding has
 * there. A template that does not extend its previous rendering (one that rewrites earlier turns, as Qwen3's drops
 * the thinking of earlier replies, or numbers the turns at the top) fails that check: the cache is dropped and the
 * whole rendering is fed again from position 0 (re-prefill), reported in {@link Turn#reprefilled}. The model's own
 * reply tokens stay in the cache as generated, as llama.cpp keeps them, even where a fresh encoding of the reply
 * text would split it differently.
 */
public final class ChatSession {
    /** One exchange: the ids fed for it starting at {@code position}, and what came back. */
    public record Turn(int number, String user, List<Integer> fed, int position, List<Integer> generated,
                       String content, String shown, boolean stopped, boolean reprefilled) {
    }

    private final DecodeSession session;
    private final ModelText text;
    private final ChatTemplate template;
    private final int maxNew;
    private final Set<Integer> stops;
    private final List<ChatMessage> messages = new ArrayList<>();
    private String cachedText; // what the KV cache plus the pending token stand for, as template text
    private int pending = -1; // the last sampled token, not fed yet
    private int turns;

    public ChatSession(DecodeSession session, ModelText text, ChatTemplate template, String system, int maxNew,
                       Set<Integer> stops) {
        if (maxNew < 1) {
            throw new IllegalArgumentException("--max-new: a chat reply needs at least 1 token, got " + maxNew);
        }
        this.session = session;
        this.text = text;
        this.template = template;
        this.maxNew = maxNew;
        this.stops = Set.copyOf(stops);
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
    }

    /** The user says {@code user}; the reply is streamed to {@code out} (null: not shown) and returned. */
    public Turn say(String user, PrintWriter out) {
        List<ChatMessage> next = new ArrayList<>(messages);
        next.add(ChatMessage.user(user));
        String rendered = template.render(next, true, text.tokenizer());
        List<Integer> feed = new ArrayList<>();
        boolean reprefill = cachedText != null && !rendered.startsWith(cachedText);
        if (cachedText != null && !reprefill) {
            feed.add(pending);
            feed.addAll(text.encode(rendered.substring(cachedText.length()), false));
        } else {
            if (reprefill) {
                session.reset();
            }
            feed.addAll(text.encode(rendered, false));
        }
        if (feed.isEmpty()) {
            throw new TokenizerException("the chat template rendered the conversation as no tokens");
        }
        int position = session.position();
        TextStream shown = text.stream(out);
        List<Integer> generated = session.generate(feed, maxNew, stops, (ForwardStep s) -> {
            if (s.sampled() >= 0) {
                shown.push(s.sampled());
            }
        });
        int last = generated.getLast();
        boolean stopped = stops.contains(last);
        List<Integer> contentIds = stopped ? generated.subList(0, generated.size() - 1) : generated;
        String content = decodeKnown(contentIds);
        messages.clear();
        messages.addAll(next);
        messages.add(ChatMessage.assistant(content));
        cachedText = rendered + content + (stopped ? decodeKnown(List.of(last)) : "");
        pending = last;
        turns++;
        return new Turn(turns, user, List.copyOf(feed), position, List.copyOf(generated), content, shown.finish(),
                stopped, reprefill);
    }

    /** The text of ids, special tokens written out, ids the tokenizer does not know (vocabulary padding) left out. */
    private String decodeKnown(List<Integer> ids) {
        return text.tokenizer().decode(ids.stream().filter(id -> text.tokenizer().token(id).isPresent())
                .mapToInt(Integer::intValue).toArray(), false);
    }
}
