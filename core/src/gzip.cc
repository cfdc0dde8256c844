#include "tundra/core/gzip.h"

#include <zlib.h>

#include <limits>

namespace tundra {

std::string gzip_compress(std::string_view data, int level) {
    z_stream zs{};
    deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out;
    out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

Result<std::string> gzip_decompress(std::string_view data, size_t max_output) {
    // zlib counts input in 32 bits; a larger body would be read as a truncated one.
    if (data.size() > std::numeric_limits<uInt>::max())
        return Result<std::string>(Errc::too_large, "compressed body is over the limit");
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return Result<std::string>(Errc::internal, "zlib init failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buf[65536];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            return Result<std::string>(Errc::malformed, "invalid gzip data");
        }
        out.append(buf, sizeof buf - zs.avail_out);
        if (out.size() > max_output) {
            inflateEnd(&zs);
            return Result<std::string>(Errc::too_large, "decompressed body is over the limit");
        }
        if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            return Result<std::string>(Errc::malformed, "truncated gzip data");
        }
    }
    inflateEnd(&zs);
    return out;
}

}  // namespace tundra
