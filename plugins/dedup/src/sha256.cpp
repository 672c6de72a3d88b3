#include "sha256.hpp"

#include <vector>

#include <openssl/evp.h>

#include "file_ops.hpp"
#include <fcntl.h>

namespace runicorn::dedup {

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

Result<Sha256> Sha256::create() {
    std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        return Status::internal("OpenSSL cannot create a SHA-256 context");
    }
    return Sha256(std::move(ctx));
}

void Sha256::update(const void* data, std::size_t n) {
    // EVP_DigestUpdate only fails on a context that was never initialised, which create() rules
    // out.
    EVP_DigestUpdate(ctx_.get(), data, n);
}

std::string Sha256::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(static_cast<std::size_t>(len) * 2, '0');
    for (std::size_t i = 0; i < len; ++i) {
        out[2 * i] = kHex[md[i] >> 4];
        out[2 * i + 1] = kHex[md[i] & 0xF];
    }
    return out;
}

std::string sha256_hex(std::string_view bytes) {
    auto h = Sha256::create();
    if (!h) {
        return {};
    }
    h->update(bytes.data(), bytes.size());
    return h->hex_digest();
}

Result<std::string> sha256_fd(int fd, const std::filesystem::path& path, std::uint64_t* size) {
    RUNICORN_ASSIGN_OR_RETURN(auto h, Sha256::create());
    std::vector<char> buf(kChunkBytes);
    std::uint64_t total = 0;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(auto n, read_some(fd, buf.data(), buf.size(), path));
        if (n == 0) {
            break;
        }
        h.update(buf.data(), n);
        total += n;
    }
    if (size != nullptr) {
        *size = total;
    }
    return h.hex_digest();
}

Result<std::string> sha256_file(const std::filesystem::path& path, std::uint64_t* size) {
    RUNICORN_ASSIGN_OR_RETURN(auto fd, open_fd(path, O_RDONLY));
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return sha256_fd(fd.get(), path, size);
}

}  // namespace runicorn::dedup
