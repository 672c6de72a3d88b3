// B5 (BENCHMARKS.md): the blob store against its floors, all measured in the same process.
//
// Limits (probes):
//   evp_sha256      OpenSSL EVP SHA-256 over a 16 KiB buffer, one core (what `openssl speed
//                   -evp sha256` reports in its 16 KiB column)
//   floor_sha_file  read() of the test file in 1 MiB chunks + EVP SHA-256 (warm page cache)
//   write_fsync     write the same number of bytes to a new file + fdatasync (dd conv=fdatasync)
//   floor_link      link() + stat() + unlink() of one file, 2,000 times (µs per op; the 4 KiB
//                   target is 0.2 / that time)
// Cases:
//   put_new         put_file() of a file whose content is not in the store (fresh store per rep)
//   put_dup         put_file() of the same file again (dedup hit)
//   put_many        put_many() of 4 new files of size/4 each (the parallel path)
//   small_files     put_many() of N 4 KiB files, half of them duplicates (files/s)
//   materialize     a 100 MB blob materialised by hard link (time per call) and as an
//                   independent copy (link=false, GB/s)
// Prints one JSON object (BENCHMARKS.md envelope); --out FILE writes it there too.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include "bench_env.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using runicorn::bench::git_commit;
using runicorn::bench::host_info;

namespace fs = std::filesystem;
namespace json = boost::json;
namespace dedup = runicorn::dedup;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

json::object summary(const std::vector<double>& v) {
    return json::object{{"median", round3(median(v))},
                        {"min", round3(*std::min_element(v.begin(), v.end()))},
                        {"max", round3(*std::max_element(v.begin(), v.end()))}};
}

void write_random_file(const fs::path& p, std::uint64_t bytes, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint64_t> buf(dedup::kChunkBytes / 8);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    for (std::uint64_t done = 0; done < bytes;) {
        for (auto& w : buf) {
            w = rng();
        }
        const auto n = std::min<std::uint64_t>(bytes - done, dedup::kChunkBytes);
        out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
        done += n;
    }
}

// GB/s of EVP SHA-256 over one 16 KiB buffer for about `seconds`.
double probe_evp_sha256(double seconds) {
    std::vector<unsigned char> block(16384, 0x5a);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    std::uint64_t bytes = 0;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < seconds) {
        for (int i = 0; i < 64; ++i) {
            EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
            EVP_DigestUpdate(ctx, block.data(), block.size());
            EVP_DigestFinal_ex(ctx, md, &len);
            bytes += block.size();
        }
    }
    const double s = seconds_since(t0);
    EVP_MD_CTX_free(ctx);
    return static_cast<double>(bytes) / s / 1e9;
}

double probe_sha_file(const fs::path& file, std::uint64_t bytes) {
    const auto t0 = Clock::now();
    auto h = dedup::sha256_file(file);
    const double s = seconds_since(t0);
    return h ? static_cast<double>(bytes) / s / 1e9 : 0;
}

double probe_write_fsync(const fs::path& dir, std::uint64_t bytes) {
    const auto p = dir / "dd.bin";
    std::vector<char> buf(dedup::kChunkBytes, 'd');
    const auto t0 = Clock::now();
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    for (std::uint64_t done = 0; done < bytes; done += buf.size()) {
        if (::write(fd, buf.data(), buf.size()) < 0) {
            break;
        }
    }
    ::fdatasync(fd);
    ::close(fd);
    const double s = seconds_since(t0);
    fs::remove(p);
    return static_cast<double>(bytes) / s / 1e9;
}

double probe_link_us(const fs::path& dir) {
    const auto f = dir / "link-src";
    std::ofstream(f) << "x";
    constexpr int kOps = 2000;
    const auto t0 = Clock::now();
    for (int i = 0; i < kOps; ++i) {
        const auto l = dir / ("l" + std::to_string(i));
        ::link(f.c_str(), l.c_str());
        struct stat st {};
        ::stat(l.c_str(), &st);
        ::unlink(l.c_str());
    }
    const double us = seconds_since(t0) * 1e6 / kOps;
    fs::remove(f);
    return us;
}

int usage() {
    std::cerr << "usage: bench_dedup [--out FILE] [--size-mb N] [--materialize-mb N] "
                 "[--small N] [--reps N] [--seed N] [--dir DIR]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_path;
    std::uint64_t size_mb = 200;
    std::uint64_t mat_mb = 100;
    std::size_t small = 2000;
    int reps = 5;
    std::uint64_t seed = 1;
    fs::path base = fs::temp_directory_path();
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string v = argv[++i];
        if (a == "--out") {
            out_path = v;
        } else if (a == "--size-mb") {
            size_mb = std::stoull(v);
        } else if (a == "--materialize-mb") {
            mat_mb = std::stoull(v);
        } else if (a == "--small") {
            small = std::stoull(v);
        } else if (a == "--reps") {
            reps = std::stoi(v);
        } else if (a == "--seed") {
            seed = std::stoull(v);
        } else if (a == "--dir") {
            base = v;
        } else {
            return usage();
        }
    }
    const auto work = base / ("bench-dedup-" + std::to_string(::getpid()));
    fs::create_directories(work / "src");
    const std::uint64_t bytes = size_mb << 20;
    const auto file = work / "src" / "big.bin";
    write_random_file(file, bytes, seed);

    std::vector<double> evp, floor_file, dd, link_floor, put_new, put_dup, many, small_rate,
        link_us, copy;
    const double evp_seconds = 1.0;
    for (int r = 0; r < reps; ++r) {
        evp.push_back(probe_evp_sha256(evp_seconds));
        floor_file.push_back(probe_sha_file(file, bytes));
        dd.push_back(probe_write_fsync(work, bytes));
        link_floor.push_back(probe_link_us(work));

        const auto root = work / ("store-" + std::to_string(r));
        dedup::HardlinkBlobStore store(root);
        auto t0 = Clock::now();
        auto p = store.put_file(file, {});
        put_new.push_back(p ? static_cast<double>(bytes) / seconds_since(t0) / 1e9 : 0);
        t0 = Clock::now();
        auto d = store.put_file(file, {});
        put_dup.push_back(
            d && d->deduplicated ? static_cast<double>(bytes) / seconds_since(t0) / 1e9 : 0);
        fs::remove_all(root);
    }

    // Several new files at once (the thread pool), fresh store per rep.
    {
        std::vector<fs::path> parts;
        for (int i = 0; i < 4; ++i) {
            parts.push_back(work / "src" / ("part" + std::to_string(i)));
            write_random_file(parts.back(), bytes / 4, seed + 100 + i);
        }
        for (int r = 0; r < reps; ++r) {
            const auto root = work / ("many-" + std::to_string(r));
            dedup::HardlinkBlobStore store(root);
            const auto t0 = Clock::now();
            auto res = store.put_many(parts);
            many.push_back(res ? static_cast<double>(bytes) / seconds_since(t0) / 1e9 : 0);
            fs::remove_all(root);
        }
    }

    // Small files: 4 KiB, half of them duplicates of the other half.
    {
        const auto dir = work / "small";
        fs::create_directories(dir);
        std::vector<fs::path> files;
        std::mt19937_64 rng(seed);
        for (std::size_t i = 0; i < small; ++i) {
            std::string content(4096, '\0');
            const std::uint64_t key = i % (small / 2 == 0 ? 1 : small / 2);
            std::mt19937_64 fill(seed * 7919 + key);
            for (auto& c : content) {
                c = static_cast<char>(fill());
            }
            files.push_back(dir / std::to_string(i));
            std::ofstream(files.back(), std::ios::binary).write(content.data(), 4096);
        }
        for (int r = 0; r < reps; ++r) {
            const auto root = work / ("small-" + std::to_string(r));
            dedup::HardlinkBlobStore store(root);
            const auto t0 = Clock::now();
            auto res = store.put_many(files);
            small_rate.push_back(res ? static_cast<double>(small) / seconds_since(t0) : 0);
            fs::remove_all(root);
        }
    }

    // Materialisation of a 100 MB blob.
    {
        const auto src = work / "src" / "mat.bin";
        const std::uint64_t mbytes = mat_mb << 20;
        write_random_file(src, mbytes, seed + 1);
        const auto root = work / "mat-store";
        dedup::HardlinkBlobStore store(root);
        auto p = store.put_file(src, {});
        for (int r = 0; p && r < reps; ++r) {
            const auto dest = work / "out" / ("link-" + std::to_string(r));
            auto t0 = Clock::now();
            auto m = store.materialize(p->sha256, dest, {});
            link_us.push_back(m ? seconds_since(t0) * 1e6 : -1);
            const auto cdest = work / "out" / ("copy-" + std::to_string(r));
            t0 = Clock::now();
            auto c = store.materialize(p->sha256, cdest, {.link = false});
            copy.push_back(c ? static_cast<double>(mbytes) / seconds_since(t0) / 1e9 : 0);
            fs::remove(cdest);
            fs::remove(dest);
        }
    }
    fs::remove_all(work);

    const double evp_m = median(evp);
    const double floor_m = median(floor_file);
    const double dd_m = median(dd);
    const double new_limit = std::min(evp_m, dd_m);
    json::object ratios{
        {"put_new/min(evp,write_fsync)", round3(median(put_new) / new_limit)},
        {"put_new/floor_sha_file", round3(median(put_new) / floor_m)},
        {"put_dup/evp_sha256", round3(median(put_dup) / evp_m)},
        {"put_dup/floor_sha_file", round3(median(put_dup) / floor_m)},
        {"put_many/evp_sha256", round3(median(many) / evp_m)},
        {"materialize_copy/min(evp,write_fsync)", round3(median(copy) / new_limit)},
        {"small_files_per_s/floor_link_ops_per_s",
         round3(median(small_rate) * median(link_floor) / 1e6)},
    };
    json::object targets{
        {"put_new/min(evp,write_fsync)", ">=0.9"},
        {"put_dup/evp_sha256", ">=0.9"},
        {"materialize_copy/min(evp,write_fsync)", ">=0.8"},
        {"small_files_per_s/floor_link_ops_per_s", ">=0.2"},
    };
    const bool pass = ratios["put_new/min(evp,write_fsync)"].as_double() >= 0.9 &&
                      ratios["put_dup/evp_sha256"].as_double() >= 0.9 &&
                      ratios["materialize_copy/min(evp,write_fsync)"].as_double() >= 0.8 &&
                      ratios["small_files_per_s/floor_link_ops_per_s"].as_double() >= 0.2;
    json::object result{
        {"file_mb", size_mb},
        {"put_new_gb_per_s", summary(put_new)},
        {"put_dup_gb_per_s", summary(put_dup)},
        {"put_many_4_files_gb_per_s", summary(many)},
        {"small_files", small},
        {"small_files_per_s", summary(small_rate)},
        {"materialize_mb", mat_mb},
        {"materialize_link_us", summary(link_us)},
        {"materialize_copy_gb_per_s", summary(copy)},
        {"cache", "warm (no drop_caches)"},
    };
    json::object doc{
        {"id", "B5"},
        {"name", "dedup"},
        {"commit", git_commit()},
        {"host", host_info()},
        {"pinning", nullptr},
        {"reps", reps},
        {"seed", seed},
        {"result", result},
        {"limit",
         json::object{{"probe", "evp_sha256 (16 KiB, one core) / floor_sha_file / write_fsync"},
                      {"evp_sha256_gb_per_s", summary(evp)},
                      {"floor_sha_file_gb_per_s", summary(floor_file)},
                      {"write_fsync_gb_per_s", summary(dd)},
                      {"floor_link_us", summary(link_floor)},
                      {"unit", "GB/s"}}},
        {"peer", nullptr},
        {"ratios", ratios},
        {"targets", targets},
        {"pass", pass},
    };
    const auto text = json::serialize(doc);
    std::cout << text << "\n";
    if (!out_path.empty()) {
        std::ofstream(out_path) << text << "\n";
    }
    return 0;
}
