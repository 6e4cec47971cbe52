// Greedy generation with llama.cpp (node-llama-cpp's prebuilt CPU library) on a GGUF file.
// Usage: node llama_greedy.mjs MODEL.gguf PROMPT_IDS(comma-separated) N_TOKENS [--bench]
//        node llama_greedy.mjs MODEL.gguf --tokenize TEXT   (llama.cpp's token ids, special tokens parsed)
// Prints the generated token ids space-separated on one line; with --bench, also the decode
// speed (tokens/s over N_TOKENS tokens after the prompt) on stderr.
// NLC_DIR: a folder whose node_modules holds node-llama-cpp (ESM ignores NODE_PATH).
import path from "node:path";
import {pathToFileURL} from "node:url";

const nlcDir = process.env.NLC_DIR;
const {getLlama} = await import(
    nlcDir ? pathToFileURL(path.join(nlcDir, "node_modules/node-llama-cpp/dist/index.js")).href : "node-llama-cpp");

const [modelPath, idsArg, nArg] = process.argv.slice(2);
const tokenizeOnly = idsArg === "--tokenize";
const bench = process.argv.includes("--bench");
const prompt = tokenizeOnly ? [] : idsArg.split(",").map(Number);
const n = Number(nArg);

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
if (tokenizeOnly) {
  console.log(Array.from(model.tokenize(nArg, true)).join(" "));
  await model.dispose();
  await llama.dispose();
  process.exit(0);
}
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
console.log(out.join(" "));
if (bench) console.error(`llama.cpp decode: ${((out.length - 1) / seconds).toFixed(1)} tok/s (${out.length - 1} tokens after the first)`);
await context.dispose();
await model.dispose();
await llama.dispose();
