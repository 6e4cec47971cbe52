// Greedy generation with llama.cpp (node-llama-cpp's prebuilt CPU library) on a GGUF file.
// Usage: node llama_greedy.mjs MODEL.gguf PROMPT_IDS(comma-separated) N_TOKENS [--bench]
//          prints the generated ids space-separated; --bench: decode tokens/s on stderr
//        node llama_greedy.mjs MODEL.gguf --prompts PROMPTS.json N_TOKENS
//          PROMPTS.json: an array of texts; prints one JSON line per text: {"ids": llama.cpp's
//          tokenization (special tokens parsed), "tokens": the greedy continuation of those ids}
// Generation stops at N_TOKENS or at an end-of-generation token (not printed).
// NLC_DIR: a folder whose node_modules holds node-llama-cpp (ESM ignores NODE_PATH).
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const nlcDir = process.env.NLC_DIR;
const {getLlama} = await import(
    nlcDir ? pathToFileURL(path.join(nlcDir, "node_modules/node-llama-cpp/dist/index.js")).href : "node-llama-cpp");

const [modelPath, second, third, fourth] = process.argv.slice(2);
const bench = process.argv.includes("--bench");
const textsMode = second === "--prompts";
const n = Number(textsMode ? fourth : third);

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});

async function greedy(prompt) {
  const context = await model.createContext({contextSize: 512, threads: Number(process.env.THREADS || 2)});
  const sequence = context.getSequence();
  const out = [];
  let t0 = 0;
  for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
    if (out.length === 0) t0 = performance.now();
    out.push(token);
    if (out.length >= n) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  await context.dispose();
  return {out, seconds};
}

if (textsMode) {
  for (const text of JSON.parse(fs.readFileSync(third, "utf8"))) {
    const ids = Array.from(model.tokenize(text, true));
    const {out} = await greedy(ids);
    console.log(JSON.stringify({ids, tokens: out}));
  }
} else {
  const {out, seconds} = await greedy(second.split(",").map(Number));
  console.log(out.join(" "));
  if (bench) console.error(`llama.cpp decode: ${((out.length - 1) / seconds).toFixed(1)} tok/s (${out.length - 1} tokens after the first)`);
}
await model.dispose();
await llama.dispose();
