// file.cpp: whole-file reads with gzip/xz decompression, and atomic writes (temp + fsync + rename).
#include "facto/io/file.hpp"

#include <fcntl.h>
#include <lzma.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "facto/core/error.hpp"
#include "file_view.hpp"
#include "core/huge_pages.hpp"

namespace facto {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

std::string read_raw(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error("read_file: cannot open '" + path + "': " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw io_error("read_file: cannot stat '" + path + "': " + errno_text(e));
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw io_error("read_file: '" + path + "' is a directory, expected a file");
    }
    std::string out;
    // Regular files: one allocation of the known size. Pipes and /proc files report 0 or a
    // wrong size, so keep reading until end of file either way.
    // One spare byte so that the read which sees end of file needs no reallocation.
    detail::resize_huge(out, S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) + 1 : 65536);
    std::size_t got = 0;
    for (;;) {
        if (got == out.size()) detail::resize_huge(out, out.size() * 2 + 65536);
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            throw io_error("read_file: cannot read '" + path + "': " + errno_text(e));
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

bool is_gzip(std::string_view b) {
    return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b;
}
bool is_xz(std::string_view b) {
    static const unsigned char magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
    return b.size() >= 6 && std::memcmp(b.data(), magic, 6) == 0;
}

// Inflates every gzip member in turn (`cat a.gz b.gz` is a valid gzip file); trailing zero
// padding (tape blocks) is ignored as gzip(1) does, anything else after a member is an error.
std::string gunzip(std::string_view in, const std::string& path) {
    std::string out;
    // ISIZE of the last member (size mod 2^32) is a good first guess for one-member files.
    std::uint32_t isize = 0;
    std::memcpy(&isize, in.data() + in.size() - std::min<std::size_t>(4, in.size()), std::min<std::size_t>(4, in.size()));
    // Deflate expands at most about 1032:1, which bounds a corrupt ISIZE.
    detail::resize_huge(out, std::max<std::size_t>(std::min<std::size_t>(isize, in.size() * 1032), in.size() * 3) + 1024);
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) throw io_error("read_file: zlib initialisation failed for '" + path + "'");
    std::size_t pos = 0, got = 0;
    for (;;) {
        const std::size_t in_chunk = std::min<std::size_t>(in.size() - pos, std::numeric_limits<uInt>::max());
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
        zs.avail_in = static_cast<uInt>(in_chunk);
        if (got == out.size()) detail::resize_huge(out, out.size() * 2);
        const std::size_t out_chunk = std::min<std::size_t>(out.size() - got, std::numeric_limits<uInt>::max());
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + got);
        zs.avail_out = static_cast<uInt>(out_chunk);
        const int rc = inflate(&zs, Z_NO_FLUSH);
        pos += in_chunk - zs.avail_in;
        got += out_chunk - zs.avail_out;
        if (rc == Z_STREAM_END) {
            const auto rest = in.substr(pos);
            if (rest.empty() || std::all_of(rest.begin(), rest.end(), [](char c) { return c == 0; })) break;
            if (!is_gzip(rest)) {
                inflateEnd(&zs);
                throw parse_error(path, 0, "read_file: " + std::to_string(rest.size()) +
                                               " bytes of trailing garbage after the gzip data");
            }
            inflateReset(&zs);
            continue;
        }
        if (rc == Z_BUF_ERROR && pos == in.size() && zs.avail_out > 0) {
            inflateEnd(&zs);
            throw parse_error(path, 0, "read_file: truncated gzip data (the stream ends early)");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
            inflateEnd(&zs);
            throw parse_error(path, 0, "read_file: corrupt gzip data: " + msg);
        }
    }
    inflateEnd(&zs);
    out.resize(got);
    return out;
}

std::string unxz(std::string_view in, const std::string& path) {
    lzma_stream zs = LZMA_STREAM_INIT;
    // LZMA_CONCATENATED: several .xz streams back to back decode as one, like xz(1).
    if (lzma_stream_decoder(&zs, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
        throw io_error("read_file: liblzma initialisation failed for '" + path + "'");
    std::string out;
    detail::resize_huge(out, in.size() * 4 + 1024);
    zs.next_in = reinterpret_cast<const uint8_t*>(in.data());
    zs.avail_in = in.size();
    std::size_t got = 0;
    for (;;) {
        if (got == out.size()) detail::resize_huge(out, out.size() * 2);
        zs.next_out = reinterpret_cast<uint8_t*>(out.data() + got);
        zs.avail_out = out.size() - got;
        const lzma_ret rc = lzma_code(&zs, zs.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
        got = out.size() - zs.avail_out;
        if (rc == LZMA_STREAM_END) break;
        if (rc != LZMA_OK) {
            lzma_end(&zs);
            const char* what = rc == LZMA_MEM_ERROR ? "out of memory"
                               : rc == LZMA_FORMAT_ERROR ? "not an xz stream"
                               : rc == LZMA_OPTIONS_ERROR ? "unsupported xz options"
                               : rc == LZMA_DATA_ERROR ? "corrupt xz data"
                               : rc == LZMA_BUF_ERROR ? "truncated xz data (the stream ends early)"
                               : "xz decoder error";
            throw parse_error(path, 0, std::string("read_file: ") + what);
        }
    }
    lzma_end(&zs);
    out.resize(got);
    return out;
}

bool ends_with_ci(const std::string& s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    for (std::size_t i = 0; i < suffix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
}

void write_all(int fd, const void* data, std::size_t bytes, const std::string& path) {
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::write(fd, p, std::min<std::size_t>(bytes, std::size_t(1) << 30));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw io_error("atomic_file: cannot write '" + path + "': " + errno_text(errno));
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

}  // namespace

std::string read_file(const std::string& path) {
    std::string raw = read_raw(path);
    if (is_gzip(raw)) return gunzip(raw, path);
    if (is_xz(raw)) return unxz(raw, path);
    return raw;
}

std::string strip_compression_suffix(const std::string& path) {
    if (ends_with_ci(path, ".gz") || ends_with_ci(path, ".xz")) return path.substr(0, path.size() - 3);
    return path;
}

std::string format_extension(const std::string& path) {
    const std::string p = strip_compression_suffix(path);
    const std::size_t slash = p.find_last_of('/');
    const std::size_t dot = p.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
    std::string ext = p.substr(dot + 1);
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

atomic_file::atomic_file(std::string path) : path_(std::move(path)) {
    if (path_.empty()) throw invalid_argument("atomic_file: empty path");
    std::string tmpl = path_ + ".tmp-XXXXXX";
    fd_ = ::mkstemp(tmpl.data());
    if (fd_ < 0)
        throw io_error("atomic_file: cannot create a temporary file next to '" + path_ + "': " + errno_text(errno));
    tmp_ = std::move(tmpl);
    // mkstemp makes the file 0600; give the result the permissions of the file it replaces,
    // or the usual 0644 for a new one.
    struct stat st {};
    const mode_t mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
    (void)::fchmod(fd_, mode);
}

atomic_file::~atomic_file() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void atomic_file::write(const void* data, std::size_t bytes) {
    if (fd_ < 0) throw io_error("atomic_file: write to '" + path_ + "' after commit");
    write_all(fd_, data, bytes, tmp_);
}

void atomic_file::commit() {
    if (fd_ < 0) throw io_error("atomic_file: '" + path_ + "' committed twice");
    if (::fsync(fd_) != 0) throw io_error("atomic_file: cannot sync '" + tmp_ + "': " + errno_text(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw io_error("atomic_file: cannot close '" + tmp_ + "': " + errno_text(errno));
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
        throw io_error("atomic_file: cannot rename '" + tmp_ + "' to '" + path_ + "': " + errno_text(errno));
    tmp_.clear();
    // Make the rename itself durable: sync the directory entry (best effort: some file
    // systems refuse to open or fsync directories).
    const std::size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

void write_file_atomic(const std::string& path, std::string_view content) {
    atomic_file f(path);
    f.write(content);
    f.commit();
}

}  // namespace facto

namespace facto::detail {

file_view::file_view(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error("read_file: cannot open '" + path + "': " + errno_text(errno));
    struct stat st {};
    unsigned char magic[6] = {0, 0, 0, 0, 0, 0};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 6;
    const bool plain = regular && ::pread(fd, magic, 6, 0) == 6 &&
                       !is_gzip(std::string_view(reinterpret_cast<const char*>(magic), 6)) &&
                       !is_xz(std::string_view(reinterpret_cast<const char*>(magic), 6));
    if (plain) {
        size_ = static_cast<std::size_t>(st.st_size);
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p != MAP_FAILED) map_ = p;
    }
    ::close(fd);
    if (!map_) owned_ = read_file(path);  // compressed, special or unmappable: read it
}

file_view::~file_view() {
    if (map_) ::munmap(map_, size_);
}

}  // namespace facto::detail
