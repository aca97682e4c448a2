// npz_archive.cpp: minimal zip reader/writer for .npz (methods 0 and 8, zip64 sizes/offsets).
#include "npz_archive.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "facto/core/error.hpp"

namespace facto::detail {

namespace {

constexpr std::uint32_t sig_local = 0x04034b50, sig_central = 0x02014b50, sig_end = 0x06054b50,
                        sig_end64 = 0x06064b50, sig_locator64 = 0x07064b50;
constexpr std::uint32_t max32 = 0xFFFFFFFFu;

std::uint64_t get(std::string_view b, std::size_t at, int bytes, const std::string& name) {
    if (at + static_cast<std::size_t>(bytes) > b.size() || at > b.size())
        throw parse_error(name, 0, "read_npz: damaged zip archive (a record runs past the end of the file)");
    std::uint64_t v = 0;
    for (int k = bytes; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(k)]);
    return v;
}

void put(std::string& out, std::uint64_t v, int bytes) {
    for (int k = 0; k < bytes; ++k) out += static_cast<char>((v >> (8 * k)) & 0xFF);
}

std::uint32_t crc_of(std::string_view s) {
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t pos = 0;
    do {
        const auto n = static_cast<uInt>(std::min<std::size_t>(s.size() - pos, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(s.data() + pos), n);
        pos += n;
    } while (pos < s.size());
    return static_cast<std::uint32_t>(crc);
}

std::string inflate_raw(std::string_view in, std::uint64_t usize, const std::string& name) {
    std::string out(static_cast<std::size_t>(usize), '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) throw io_error("read_npz: zlib initialisation failed");
    std::size_t ipos = 0, opos = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        const auto ni = static_cast<uInt>(std::min<std::size_t>(in.size() - ipos, 1u << 30));
        const auto no = static_cast<uInt>(std::min<std::size_t>(out.size() - opos, 1u << 30));
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + ipos));
        zs.avail_in = ni;
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + opos);
        zs.avail_out = no;
        rc = inflate(&zs, Z_NO_FLUSH);
        ipos += ni - zs.avail_in;
        opos += no - zs.avail_out;
        if (rc == Z_BUF_ERROR && (ni == 0 || no == 0)) break;
    }
    const std::string msg = zs.msg ? std::string(": ") + zs.msg : std::string();
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || opos != out.size()) throw parse_error(name, 0, "read_npz: corrupt deflated data" + msg);
    return out;
}

std::string deflate_raw(std::string_view in) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw io_error("write_npz: zlib initialisation failed");
    std::string out(std::max<std::size_t>(64, in.size() / 2), '\0');
    std::size_t ipos = 0, opos = 0;
    for (;;) {
        if (opos == out.size()) out.resize(out.size() * 2);
        const auto ni = static_cast<uInt>(std::min<std::size_t>(in.size() - ipos, 1u << 30));
        const auto no = static_cast<uInt>(std::min<std::size_t>(out.size() - opos, 1u << 30));
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + ipos));
        zs.avail_in = ni;
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + opos);
        zs.avail_out = no;
        const int rc = deflate(&zs, ipos + ni == in.size() ? Z_FINISH : Z_NO_FLUSH);
        ipos += ni - zs.avail_in;
        opos += no - zs.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            deflateEnd(&zs);
            throw io_error("write_npz: deflate failed");
        }
    }
    deflateEnd(&zs);
    out.resize(opos);
    return out;
}

}  // namespace

std::vector<zip_member> read_zip(std::string_view b, const std::string& name) {
    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    if (b.size() < 22) throw parse_error(name, 0, "read_npz: not a zip archive (" + std::to_string(b.size()) + " bytes)");
    std::size_t eocd = std::string_view::npos;
    const std::size_t lowest = b.size() >= 22 + 65535 ? b.size() - 22 - 65535 : 0;
    for (std::size_t p = b.size() - 22 + 1; p-- > lowest;)
        if (get(b, p, 4, name) == sig_end) {
            eocd = p;
            break;
        }
    if (eocd == std::string_view::npos)
        throw parse_error(name, 0, "read_npz: not a zip archive (no end of central directory record)");
    std::uint64_t count = get(b, eocd + 10, 2, name);
    std::uint64_t cd_size = get(b, eocd + 12, 4, name);
    std::uint64_t cd_off = get(b, eocd + 16, 4, name);
    // A zip64 locator, when present, points at the authoritative 64-bit values.
    const bool has_locator = eocd >= 20 && get(b, eocd - 20, 4, name) == sig_locator64;
    if (!has_locator && (count == 0xFFFF || cd_size == max32 || cd_off == max32))
        throw parse_error(name, 0, "read_npz: damaged zip64 archive (no zip64 end record locator)");
    if (has_locator) {
        const std::uint64_t e64 = get(b, eocd - 20 + 8, 8, name);
        if (get(b, e64, 4, name) != sig_end64)
            throw parse_error(name, 0, "read_npz: damaged zip64 archive (bad zip64 end record)");
        count = get(b, e64 + 32, 8, name);
        cd_size = get(b, e64 + 40, 8, name);
        cd_off = get(b, e64 + 48, 8, name);
    }
    if (cd_off > b.size() || cd_size > b.size() - cd_off)
        throw parse_error(name, 0, "read_npz: damaged zip archive (central directory outside the file)");
    std::vector<zip_member> out;
    std::size_t p = static_cast<std::size_t>(cd_off);
    for (std::uint64_t e = 0; e < count; ++e) {
        if (get(b, p, 4, name) != sig_central)
            throw parse_error(name, 0, "read_npz: damaged zip archive (bad central directory entry " + std::to_string(e) + ")");
        const auto flags = get(b, p + 8, 2, name);
        const auto method = get(b, p + 10, 2, name);
        const auto crc = static_cast<std::uint32_t>(get(b, p + 16, 4, name));
        std::uint64_t csize = get(b, p + 20, 4, name), usize = get(b, p + 24, 4, name);
        const auto nlen = get(b, p + 28, 2, name), xlen = get(b, p + 30, 2, name), clen = get(b, p + 32, 2, name);
        std::uint64_t loff = get(b, p + 42, 4, name);
        if (p + 46 + nlen > b.size()) throw parse_error(name, 0, "read_npz: damaged zip archive (truncated entry name)");
        std::string mname(b.substr(p + 46, nlen));
        // Zip64 extra field: 64-bit values, present only for the fields that read 0xFFFFFFFF.
        for (std::size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
            const auto id = get(b, x, 2, name), len = get(b, x + 2, 2, name);
            if (id == 0x0001) {
                std::size_t q = x + 4;
                if (usize == max32) usize = get(b, q, 8, name), q += 8;
                if (csize == max32) csize = get(b, q, 8, name), q += 8;
                if (loff == max32) loff = get(b, q, 8, name), q += 8;
            }
            x += 4 + len;
        }
        p += 46 + nlen + xlen + clen;
        if (!mname.empty() && mname.back() == '/') continue;  // a folder
        if (flags & 1) throw parse_error(name, 0, "read_npz: member '" + mname + "' is encrypted, which is not supported");
        if (method != 0 && method != 8)
            throw parse_error(name, 0, "read_npz: member '" + mname + "' uses compression method " + std::to_string(method) +
                                           "; supported: 0 (stored) and 8 (deflated)");
        if (get(b, loff, 4, name) != sig_local)
            throw parse_error(name, 0, "read_npz: damaged zip archive (bad local header for '" + mname + "')");
        const std::size_t data = static_cast<std::size_t>(loff + 30 + get(b, loff + 26, 2, name) + get(b, loff + 28, 2, name));
        if (data > b.size() || csize > b.size() - data)
            throw parse_error(name, 0, "read_npz: damaged zip archive (data of '" + mname + "' runs past the end)");
        const std::string_view raw = b.substr(data, static_cast<std::size_t>(csize));
        std::string bytes;
        if (method == 0) {
            if (csize != usize) throw parse_error(name, 0, "read_npz: damaged zip archive (stored sizes of '" + mname + "' differ)");
            bytes.assign(raw);
        } else {
            bytes = inflate_raw(raw, usize, name + ":" + mname);
        }
        if (crc_of(bytes) != crc) throw parse_error(name, 0, "read_npz: CRC mismatch in member '" + mname + "' (damaged archive)");
        out.push_back({std::move(mname), std::move(bytes)});
    }
    return out;
}

std::string make_zip(const std::vector<zip_member>& members, bool deflate) {
    std::string out, central;
    constexpr std::uint32_t dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
    for (const auto& m : members) {
        if (m.name.size() > 0xFFFF) throw invalid_argument("write_npz: member name too long: " + m.name.substr(0, 64) + "...");
        const std::uint32_t crc = crc_of(m.data);
        const std::string packed = deflate ? deflate_raw(m.data) : std::string();
        const std::string_view body = deflate ? std::string_view(packed) : std::string_view(m.data);
        const std::uint64_t usize = m.data.size(), csize = body.size(), loff = out.size();
        const bool z64 = usize >= max32 || csize >= max32;
        const bool z64off = loff >= max32;
        const int version = (z64 || z64off) ? 45 : 20;
        // Local header (zip64 extra with both sizes when they need it).
        put(out, sig_local, 4);
        put(out, static_cast<std::uint64_t>(version), 2);
        put(out, 0, 2);
        put(out, deflate ? 8 : 0, 2);
        put(out, 0, 2);
        put(out, dos_date, 2);
        put(out, crc, 4);
        put(out, z64 ? max32 : csize, 4);
        put(out, z64 ? max32 : usize, 4);
        put(out, m.name.size(), 2);
        put(out, z64 ? 20 : 0, 2);
        out += m.name;
        if (z64) {
            put(out, 0x0001, 2);
            put(out, 16, 2);
            put(out, usize, 8);
            put(out, csize, 8);
        }
        out.append(body);
        // Central directory entry.
        std::string extra;
        if (z64 || z64off) {
            std::string f;
            if (z64) put(f, usize, 8), put(f, csize, 8);
            if (z64off) put(f, loff, 8);
            put(extra, 0x0001, 2);
            put(extra, f.size(), 2);
            extra += f;
        }
        put(central, sig_central, 4);
        put(central, static_cast<std::uint64_t>(version), 2);
        put(central, static_cast<std::uint64_t>(version), 2);
        put(central, 0, 2);
        put(central, deflate ? 8 : 0, 2);
        put(central, 0, 2);
        put(central, dos_date, 2);
        put(central, crc, 4);
        put(central, z64 ? max32 : csize, 4);
        put(central, z64 ? max32 : usize, 4);
        put(central, m.name.size(), 2);
        put(central, extra.size(), 2);
        put(central, 0, 2);
        put(central, 0, 2);
        put(central, 0, 2);
        put(central, 0, 4);
        put(central, z64off ? max32 : loff, 4);
        central += m.name;
        central += extra;
    }
    const std::uint64_t cd_off = out.size(), cd_size = central.size(), count = members.size();
    out += central;
    const bool z64 = count >= 0xFFFF || cd_off >= max32 || cd_size >= max32;
    if (z64) {
        const std::uint64_t e64 = out.size();
        put(out, sig_end64, 4);
        put(out, 44, 8);
        put(out, 45, 2);
        put(out, 45, 2);
        put(out, 0, 4);
        put(out, 0, 4);
        put(out, count, 8);
        put(out, count, 8);
        put(out, cd_size, 8);
        put(out, cd_off, 8);
        put(out, sig_locator64, 4);
        put(out, 0, 4);
        put(out, e64, 8);
        put(out, 1, 4);
    }
    put(out, sig_end, 4);
    put(out, 0, 2);
    put(out, 0, 2);
    put(out, z64 ? 0xFFFF : count, 2);
    put(out, z64 ? 0xFFFF : count, 2);
    put(out, z64 ? max32 : cd_size, 4);
    put(out, z64 ? max32 : cd_off, 4);
    put(out, 0, 2);
    return out;
}

}  // namespace facto::detail
