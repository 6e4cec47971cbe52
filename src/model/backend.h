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
Backend parse_backend(const std::string& s);  // "cpu" | "cuda"; throws Error otherwise

// Throws Error naming the reason when the backend cannot run here (not built, no GPU).
std::unique_ptr<Model> make_model(ModelWeights weights, Backend backend, int cpu_threads = 0);

}  // namespace a3b
