#include "archive_writer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::archive {
namespace {

constexpr std::size_t kChunk = std::size_t{256} * 1024;

/// Closes a file descriptor on scope exit.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

/// Frees an archive_entry on scope exit.
struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

/// The length of the prefix of `fd` (size `size`) that ends with its last '\n'; 0 if none.
Result<std::uint64_t> last_newline_end(int fd, std::uint64_t size, const std::string& path) {
    std::array<char, 64 * 1024> buf{};
    std::uint64_t end = size;
    while (end > 0) {
        const std::uint64_t n = std::min<std::uint64_t>(end, buf.size());
        const std::uint64_t off = end - n;
        const ssize_t got = ::pread(fd, buf.data(), n, static_cast<off_t>(off));
        if (got < 0) {
            return Status::unavailable("reading " + path + ": " + std::strerror(errno));
        }
        if (static_cast<std::uint64_t>(got) != n) {
            return Status::data_loss(path + " shrank while being exported");
        }
        for (std::uint64_t i = n; i > 0; --i) {
            if (buf[i - 1] == '\n') {
                return off + i;
            }
        }
        end = off;
    }
    return std::uint64_t{0};
}

}  // namespace

struct ArchiveWriter::Callbacks {
    static la_ssize_t write(struct ::archive* /*a*/, void* client, const void* buffer,
                            size_t length) {
        auto* self = static_cast<ArchiveWriter*>(client);
        if (self->client_gone_) {
            return -1;
        }
        if (!self->sink_->write(std::string_view(static_cast<const char*>(buffer), length))) {
            self->client_gone_ = true;
            return -1;
        }
        self->written_ += length;
        return static_cast<la_ssize_t>(length);
    }
};

ArchiveWriter::ArchiveWriter(ArchiveFormat format, plugin::BodySink& sink)
    : format_(format), sink_(&sink) {}

ArchiveWriter::~ArchiveWriter() {
    if (archive_ != nullptr) {
        if (!finished_) {
            // Do not write a trailer for an aborted archive: the client must see a truncation.
            client_gone_ = true;
        }
        archive_write_free(archive_);
    }
}

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::open(ArchiveFormat format,
                                                           plugin::BodySink& sink) {
    std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(format, sink));
    w->archive_ = archive_write_new();
    if (w->archive_ == nullptr) {
        return Status::resource_exhausted("archive_write_new failed");
    }
    int rc = ARCHIVE_OK;
    if (format == ArchiveFormat::kTarGz) {
        rc = archive_write_set_format_pax_restricted(w->archive_);
        if (rc == ARCHIVE_OK) {
            rc = archive_write_add_filter_gzip(w->archive_);
        }
    } else {
        rc = archive_write_set_format_zip(w->archive_);
        if (rc == ARCHIVE_OK) {
            rc = archive_write_zip_set_compression_deflate(w->archive_);
        }
        if (rc == ARCHIVE_OK) {
            // No padding after the end of a zip.
            rc = archive_write_set_bytes_in_last_block(w->archive_, 1);
        }
    }
    if (rc == ARCHIVE_OK) {
        rc = archive_write_open(w->archive_, w.get(), nullptr, &Callbacks::write, nullptr);
    }
    if (rc != ARCHIVE_OK) {
        return w->failure("opening the archive");
    }
    return w;
}

Status ArchiveWriter::failure(std::string_view what) const {
    if (client_gone_) {
        return Status::cancelled("the client went away");
    }
    const char* msg = archive_ != nullptr ? archive_error_string(archive_) : nullptr;
    return Status::internal(std::string(what) + ": " + (msg != nullptr ? msg : "libarchive error"));
}

Status ArchiveWriter::header(std::string_view name, std::uint64_t size, unsigned mode,
                             std::int64_t mtime) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    if (entry == nullptr) {
        return Status::resource_exhausted("archive_entry_new failed");
    }
    const std::string n(name);
    archive_entry_set_pathname_utf8(entry.get(), n.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), mode);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry.get(), static_cast<time_t>(mtime), 0);
    if (archive_write_header(archive_, entry.get()) != ARCHIVE_OK) {
        return failure("writing the header of " + n);
    }
    return Status::ok();
}

Status ArchiveWriter::data(const char* bytes, std::size_t size) {
    while (size > 0) {
        const la_ssize_t n = archive_write_data(archive_, bytes, size);
        if (n <= 0) {
            return failure("writing entry data");
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return Status::ok();
}

Status ArchiveWriter::add_bytes(std::string_view name, std::string_view bytes) {
    RUNICORN_RETURN_IF_ERROR(header(name, bytes.size(), 0644, std::time(nullptr)));
    RUNICORN_RETURN_IF_ERROR(data(bytes.data(), bytes.size()));
    if (archive_write_finish_entry(archive_) != ARCHIVE_OK) {
        return failure("finishing an entry");
    }
    return Status::ok();
}

Status ArchiveWriter::add_file(std::string_view name, const std::filesystem::path& src,
                               ReadCut cut) {
    const std::string path = src.string();
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return Status::not_found(path + " vanished before it was exported");
        }
        if (errno == ELOOP) {
            return Status::invalid_argument(path + " is a symlink");
        }
        return Status::unavailable("opening " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Status::unavailable("stat " + path + ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::invalid_argument(path + " is not a regular file");
    }
    std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (cut == ReadCut::kLastNewline) {
        RUNICORN_ASSIGN_OR_RETURN(size, last_newline_end(fd.get(), size, path));
    }
    const unsigned mode = (st.st_mode & S_IXUSR) != 0 ? 0755U : 0644U;
    RUNICORN_RETURN_IF_ERROR(header(name, size, mode, static_cast<std::int64_t>(st.st_mtime)));
    std::vector<char> buf(kChunk);
    std::uint64_t off = 0;
    while (off < size) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - off));
        const ssize_t got = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(off));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Status::unavailable("reading " + path + ": " + std::strerror(errno));
        }
        if (got == 0) {
            return Status::data_loss(path + " shrank while being exported");
        }
        RUNICORN_RETURN_IF_ERROR(data(buf.data(), static_cast<std::size_t>(got)));
        off += static_cast<std::uint64_t>(got);
    }
    if (archive_write_finish_entry(archive_) != ARCHIVE_OK) {
        return failure("finishing " + std::string(name));
    }
    return Status::ok();
}

Status ArchiveWriter::finish() {
    if (finished_) {
        return Status::ok();
    }
    if (archive_write_close(archive_) != ARCHIVE_OK) {
        return failure("closing the archive");
    }
    finished_ = true;
    return Status::ok();
}

}  // namespace runicorn::http_plugin::archive
