// Codebooks of the GGUF IQ quant types (values in quant_tables.cpp).
#pragma once
#include <cstdint>

namespace a3b::quant_tables {

extern const uint8_t kSignMask[8];       // bit j of a sign byte negates element j
extern const uint8_t kSigns[128];        // 7-bit sign index -> 8 sign bits (even parity)
extern const uint64_t kIq2xxsGrid[256];  // 8 magnitudes a byte
extern const uint32_t kIq3xxsGrid[256];  // 4 magnitudes a byte
extern const uint32_t kIq3sGrid[512];    // 4 magnitudes a byte
extern const int8_t kIq4nlValues[16];    // IQ4_NL / IQ4_XS non-linear levels

}  // namespace a3b::quant_tables
