// strata serve through the official openai client: models, completion, chat, streamed chat (chunks arrive before
// the end), a bad request (4xx JSON error), two concurrent clients. Run by OpenAiClientTest with STRATA_URL and
// STRATA_MODEL set; exits non-zero on the first failed check and prints one JSON summary line on success.
import OpenAI from "openai";
import assert from "node:assert/strict";

const base = process.env.STRATA_URL;
const model = process.env.STRATA_MODEL;
assert.ok(base && model, "STRATA_URL and STRATA_MODEL must be set");
const client = () => new OpenAI({ baseURL: base + "/v1", apiKey: "not-needed", maxRetries: 0, timeout: 120000 });
const api = client();
const user = (content) => [{ role: "user", content }];

const models = await api.models.list();
assert.equal(models.data[0].id, model);

const c = await api.completions.create({ model, prompt: "The capital of France is", max_tokens: 8, temperature: 0 });
assert.equal(c.object, "text_completion");
assert.equal(typeof c.choices[0].text, "string");
assert.ok(c.usage.completion_tokens >= 1 && c.usage.completion_tokens <= 8, JSON.stringify(c.usage));
assert.ok(c.usage.prompt_tokens >= 5, JSON.stringify(c.usage));

const chat = await api.chat.completions.create({ model, messages: user("Hello there"), max_tokens: 12, temperature: 0 });
assert.equal(chat.object, "chat.completion");
assert.equal(chat.choices[0].message.role, "assistant");
assert.ok(["stop", "length"].includes(chat.choices[0].finish_reason));
const sampled = async () => (await api.chat.completions.create({ model, messages: user("Hi"), max_tokens: 10,
  temperature: 0.9, top_p: 0.95, seed: 42 })).choices[0].message.content;
assert.equal(await sampled(), await sampled(), "the same seed must give the same sampled reply");

/** A streamed chat: its text, the arrival time of every content chunk, and when the stream ended. */
async function streamed(c, content, maxTokens) {
  const stream = await c.chat.completions.create({ model, messages: user(content), max_tokens: maxTokens,
    temperature: 0, stream: true });
  let text = "", finish = null, role = null;
  const times = [];
  for await (const ev of stream) {
    const ch = ev.choices[0];
    if (ch.delta.role) role = ch.delta.role;
    if (ch.delta.content) { text += ch.delta.content; times.push(performance.now()); }
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  return { text, times, end: performance.now(), finish, role };
}
const whole = await api.chat.completions.create({ model, messages: user("Write a poem"), max_tokens: 24, temperature: 0 });
const s = await streamed(api, "Write a poem", 24);
assert.equal(s.role, "assistant");
assert.ok(s.times.length >= 2, "expected several content chunks, got " + s.times.length);
assert.ok(s.times[0] < s.end, "the first chunk must arrive before the end of the stream");
assert.equal(s.text, whole.choices[0].message.content, "streamed and whole replies differ");
assert.equal(s.finish, whole.choices[0].finish_reason);

let bad;
try {
  await api.chat.completions.create({ model, messages: [], max_tokens: 4 });
} catch (e) {
  bad = e;
}
assert.ok(bad instanceof OpenAI.BadRequestError, "expected a 400 BadRequestError, got " + bad);
assert.equal(bad.status, 400);
assert.equal(bad.error.type, "invalid_request_error");
assert.equal(bad.param, "messages");
let notFound;
try {
  await api.completions.create({ model: "no-such-model", prompt: "x", max_tokens: 2 });
} catch (e) {
  notFound = e;
}
assert.ok(notFound instanceof OpenAI.NotFoundError, "expected 404, got " + notFound);

// two clients at once, each on its own connection: both complete, their tokens interleave (the server takes
// turns token by token), and each gets exactly the reply it gets alone
// (200 tokens each: long enough that the second request arrives while the first is still generating)
const N = 200;
const soloA = (await api.chat.completions.create({ model, messages: user("Alpha"), max_tokens: N, temperature: 0 }))
  .choices[0].message.content;
const soloB = (await api.chat.completions.create({ model, messages: user("Beta beta"), max_tokens: N, temperature: 0 }))
  .choices[0].message.content;
const [a, b] = await Promise.all([streamed(client(), "Alpha", N), streamed(client(), "Beta beta", N)]);
assert.equal(a.text, soloA, "client A's reply changed under concurrency");
assert.equal(b.text, soloB, "client B's reply changed under concurrency");
const overlap = a.times[0] < b.times[b.times.length - 1] && b.times[0] < a.times[a.times.length - 1];
assert.ok(overlap, "the two streams did not overlap in time: A " + a.times.length + " chunks "
  + [a.times[0], a.times[a.times.length - 1]] + ", B " + b.times.length + " chunks " + [b.times[0], b.times[b.times.length - 1]]);

console.log(JSON.stringify({ ok: true, completion: c.choices[0].text, chat: chat.choices[0].message.content,
  streamChunks: s.times.length, concurrentChunks: [a.times.length, b.times.length] }));
