// The HF tokenizers side of bench/tokenizer_bench.sh: the same measurements as build/a3b_tokenizer_bench, timed
// inside the process around the Rust binding's calls (process start and file reading excluded).
//
//   NODE_PATH=build/npm/node_modules node bench/tokenizer_bench_hf.js TOKENIZER_JSON CORPUS_JSONL [REPS]
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  const [file, corpus, repsArg] = process.argv.slice(2);
  const reps = Math.max(1, Number(repsArg || 5));
  const docs = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  const text = docs.join('\n');
  const mb = Buffer.byteLength(text, 'utf8') / 1e6;
  const loads = [], cold = [], warm = [], decode = [], perDoc = [];
  let n = 0;
  for (let i = 0; i < reps; ++i) {
    let t0 = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(file);
    loads.push(ms(t0));
    t0 = process.hrtime.bigint();
    let ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    cold.push(ms(t0));
    t0 = process.hrtime.bigint();
    ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    warm.push(ms(t0));
    n = ids.length;
    t0 = process.hrtime.bigint();
    await tok.decode(Array.from(ids), false);
    decode.push(ms(t0));
    const fresh = Tokenizer.fromFile(file);
    t0 = process.hrtime.bigint();
    for (const d of docs) await fresh.encode(d, null, { addSpecialTokens: false });
    perDoc.push(ms(t0));
  }
  const line = (what, v, rate) =>
    console.log(`hf   ${what.padEnd(26)} ${median(v).toFixed(1).padStart(8)} ms` +
                (rate ? `  ${(mb / median(v) * 1e3).toFixed(2).padStart(6)} MB/s` : ''));
  line('load', loads, false);
  line('encode, cold cache', cold, true);
  console.log(`     (${Buffer.byteLength(text, 'utf8')} bytes -> ${n} tokens)`);
  line('encode, warm cache', warm, true);
  line('encode per document, cold', perDoc, true);
  console.log(`     (${docs.length} calls)`);
  line('decode', decode, false);
}

main().catch((e) => { console.error(e); process.exit(1); });
