// Choosing the engine that runs a model: the CPU reference or the CUDA backend (when built).
#pragma once
#include <memory>
#include <string>

#include "model/model.h"
#include "model/weights.h"

namespace a3b {

enum class Backend { Cpu, Cuda };

bool cuda_built();                            // compiled with the CUDA backend
bool cuda_usable();                           // ... and a GPU is present
Backend default_backend();                    // cuda when usable, else cpu
// The same for these weights: cpu also when they use what only the CPU engine runs (GGUF block
// quants, llama.cpp's tiled linear-attention heads).
Backend default_backend(const ModelWeights& w);
Backend parse_backend(const std::string& s);  // "cpu" | "cuda"; throws Error otherwise

// Throws Error naming the reason when the backend cannot run here (not built, no GPU).
std::unique_ptr<Model> make_model(ModelWeights weights, Backend backend, int cpu_threads = 0);

}  // namespace a3b
