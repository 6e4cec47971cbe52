// Load test: C concurrent streaming clients for D seconds against `a3b serve`, every stream
// validated chunk by chunk. Reports throughput and latency percentiles, checks that the engine
// batched several sequences per step and that the server's memory stayed flat after warm-up.
// Usage: node load.mjs BASE_URL API_KEY SERVER_PID [CLIENTS=64] [SECONDS=60] [MAX_RSS_GROWTH=0.05|none]
// MAX_RSS_GROWTH none: under ASan, RSS measures the sanitizer's own bookkeeping (quarantine, stack
// depot, per-thread caches), so the Release run checks memory and the ASan run checks findings.
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';

const [base, apiKey, pid, clientsArg, secondsArg, growthArg] = process.argv.slice(2);
const MAX_GROWTH = growthArg === 'none' ? Infinity : Number(growthArg ?? 0.05);
const CLIENTS = Number(clientsArg ?? 64), SECONDS = Number(secondsArg ?? 60);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0, timeout: 600_000 });
const model = (await client.models.list()).data[0].id;
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

const prompts = ['Tell me about Python lists.', 'What is 12 + 30?', 'Write a haiku about the sea.', 'Explain recursion.',
  'How do I open a file in Python?', 'Name three colors.', 'What does the os module do?', 'Give me a short poem.'];
const ttft = [], itl = [], total = [];
let requests = 0, failures = 0, tokens = 0;
const failuresSeen = [];
const deadline = Date.now() + SECONDS * 1000;
let rssWarm = 0;
setTimeout(() => { rssWarm = rss(); }, Math.min(15, SECONDS / 4) * 1000);

async function one(i) {
  const start = performance.now();
  let last = start, first = 0, n = 0, finish = null, usage = null, roleSeen = false;
  const stream = await client.chat.completions.create({
    model, stream: true, stream_options: { include_usage: true }, max_tokens: 32 + (i % 5) * 8,
    temperature: 0.8, seed: i, messages: [{ role: 'user', content: prompts[i % prompts.length] }],
    chat_template_kwargs: { enable_thinking: i % 2 === 0 },
  });
  for await (const chunk of stream) {
    if (chunk.object !== 'chat.completion.chunk') throw new Error(`bad object ${chunk.object}`);
    if (chunk.usage) { usage = chunk.usage; continue; }
    const c = chunk.choices[0];
    if (c.delta.role) roleSeen = true;
    if (c.delta.content || c.delta.reasoning_content || c.delta.tool_calls) {
      const now = performance.now();
      if (!first) { first = now; ttft.push(now - start); } else itl.push(now - last);
      last = now; n++;
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  if (!roleSeen || !finish || !usage) throw new Error(`malformed stream: role ${roleSeen} finish ${finish} usage ${!!usage}`);
  total.push(performance.now() - start);
  tokens += usage.completion_tokens;
}

async function worker(w) {
  for (let k = 0; Date.now() < deadline; k++) {
    requests++;
    try { await one(w * 1000 + k); } catch (e) { failures++; if (failuresSeen.length < 5) failuresSeen.push(String(e)); }
  }
}

const t0 = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
const secs = (Date.now() - t0) / 1000;
const rssEnd = rss();
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
const metrics = await (await fetch(`${base}/metrics`)).text();
const bucket = (le) => Number(new RegExp(`a3b_batch_sequences_bucket\\{le="${le}"\\} (\\d+)`).exec(metrics)[1]);
const steps = Number(/a3b_batch_sequences_count (\d+)/.exec(metrics)[1]);
const multi = steps - bucket(1);
const growth = rssWarm ? (rssEnd - rssWarm) / rssWarm : 0;
const report = {
  clients: CLIENTS, seconds: secs, requests, failures, completion_tokens: tokens,
  tokens_per_s: tokens / secs, requests_per_s: (requests - failures) / secs,
  ttft_ms: { p50: pct(ttft, 0.5), p99: pct(ttft, 0.99) }, itl_ms: { p50: pct(itl, 0.5), p99: pct(itl, 0.99) },
  latency_ms: { p50: pct(total, 0.5), p99: pct(total, 0.99) },
  steps, steps_with_several_sequences: multi, batch_sequences_le_16: bucket(16), batch_sequences_le_32: bucket(32),
  rss_after_warmup_mb: rssWarm / 2 ** 20, rss_end_mb: rssEnd / 2 ** 20, rss_growth: growth, failure_samples: failuresSeen,
  rss_growth_limit: MAX_GROWTH === Infinity ? 'none' : MAX_GROWTH,
};
console.log(JSON.stringify(report, null, 1));
const ok = failures === 0 && multi > 0 && growth < MAX_GROWTH && requests > CLIENTS;
console.log(ok ? 'load test passed' : 'load test FAILED');
process.exit(ok ? 0 : 1);
