// gzip framing (RFC 1952) over zlib, for HTTP Content-Encoding on both sides.
#pragma once

#include <string>
#include <string_view>

#include "tundra/core/status.h"

namespace tundra {

std::string gzip_compress(std::string_view data, int level = 6);
// Refuses output beyond `max_output` bytes (a zip bomb is a too_large error, not an OOM).
Result<std::string> gzip_decompress(std::string_view data, size_t max_output);

}  // namespace tundra
