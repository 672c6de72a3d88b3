#include "events_parser.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "record.hpp"
#include "tolerant_json.hpp"
#include <simdjson.h>

namespace runicorn::storage::series {
namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kMaxWindow = std::size_t{4} << 20;
constexpr std::size_t kMinWindow = std::size_t{16} << 10;
// Pseudo key ids of the step keys, which are not stored as keys.
constexpr std::uint32_t kGlobalStepKey = kNoIndex - 1;
constexpr std::uint32_t kStepKey = kNoIndex - 2;

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_blank(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const char c = p[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return false;
        }
    }
    return true;
}

// A key name as two masked 8-byte words, so the raw key text of a document can be checked with
// two loads instead of a memcmp call. Only names of at most 16 bytes without quotes or
// backslashes (which then appear verbatim in the JSON text) can match this way.
struct KeySig {
    std::uint64_t w0 = 0;
    std::uint64_t w1 = 0;
    std::uint64_t m0 = 0;
    std::uint64_t m1 = 0;
    std::uint32_t len = 0;
    bool usable = false;

    static constexpr KeySig of(std::string_view name) {
        static_assert(std::endian::native == std::endian::little);
        KeySig k;
        if (name.size() > 16 || name.find_first_of("\"\\") != std::string_view::npos) {
            return k;
        }
        for (std::size_t i = 0; i < name.size(); ++i) {
            const auto byte = static_cast<std::uint64_t>(static_cast<unsigned char>(name[i]));
            const unsigned shift = 8 * static_cast<unsigned>(i % 8);
            if (i < 8) {
                k.w0 |= byte << shift;
                k.m0 |= std::uint64_t{0xFF} << shift;
            } else {
                k.w1 |= byte << shift;
                k.m1 |= std::uint64_t{0xFF} << shift;
            }
        }
        k.len = static_cast<std::uint32_t>(name.size());
        k.usable = true;
        return k;
    }

    // `raw` points at the key text after its opening quote, inside a padded buffer (at least 64
    // readable bytes follow any JSON value), so reading 17 bytes is safe.
    bool matches(const char* raw) const {
        std::uint64_t r0 = 0;
        std::uint64_t r1 = 0;
        std::memcpy(&r0, raw, 8);
        std::memcpy(&r1, raw + 8, 8);
        return usable && ((r0 & m0) == w0) && ((r1 & m1) == w1) && raw[len] == '"';
    }
};

// Reads one value. Returns false when simdjson cannot vouch for it (NaN tokens, overflow, big
// integers, malformed atoms): the caller then parses the line with the tolerant parser.
template <class Value>
bool read_value(Value& v, FieldValue& out) {
    // type() only peeks at the first byte; NaN and Infinity fail here, -Infinity and
    // overflowing numbers in get_number().
    od::json_type t{};
    if (v.type().get(t) != simdjson::SUCCESS) {
        return false;
    }
    switch (t) {
        case od::json_type::number: {
            od::number num;
            if (v.get_number().get(num) != simdjson::SUCCESS) {
                return false;
            }
            out.type = FieldValue::Type::kNumber;
            switch (num.get_number_type()) {
                case od::number_type::signed_integer:
                    out.kind = PointKind::kInt;
                    out.i = num.get_int64();
                    out.d = static_cast<double>(out.i);
                    break;
                case od::number_type::unsigned_integer:  // >= 2^63: outside int64 (G3)
                    out.kind = PointKind::kDouble;
                    out.d = static_cast<double>(num.get_uint64());
                    break;
                default:
                    out.kind = PointKind::kDouble;
                    out.d = num.get_double();
                    break;
            }
            return true;
        }
        case od::json_type::string:
            out.type = FieldValue::Type::kString;
            return v.get_string().get(out.s) == simdjson::SUCCESS;
        case od::json_type::boolean: {
            bool b = false;
            if (v.get_bool().get(b) != simdjson::SUCCESS) {
                return false;
            }
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kBool;
            out.d = b ? 1.0 : 0.0;
            return true;
        }
        case od::json_type::null: {
            bool is_null = false;
            if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
                return false;
            }
            out.type = FieldValue::Type::kNull;
            return true;
        }
        default:
            out.type = FieldValue::Type::kOther;  // arrays and objects are dropped
            return true;
    }
}

constexpr KeySig kDataSig = KeySig::of("data");
constexpr KeySig kTypeSig = KeySig::of("type");
constexpr KeySig kTsSig = KeySig::of("ts");

bool step_of(const FieldValue& v, std::int64_t& step) {
    if (v.type != FieldValue::Type::kNumber) {
        return false;
    }
    if (v.kind == PointKind::kInt) {
        step = v.i;
        return true;
    }
    if (v.kind == PointKind::kDouble && std::isfinite(v.d) && std::trunc(v.d) == v.d &&
        v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0) {
        step = static_cast<std::int64_t>(v.d);
        return true;
    }
    return false;
}

}  // namespace

std::size_t parser_padding() { return simdjson::SIMDJSON_PADDING; }

// Parser state plus the record builder: values go straight into the columns with a placeholder
// step that finish() patches (v0.6 writes global_step after the user's keys); abort() and
// undo_last() take a record back out.
struct EventsParser::Impl {
    Impl(SeriesData& o, spdlog::logger* l, std::string p)
        : out(o),
          log(l),
          path(std::move(p)),
          time_id(o.find_key("time")),
          stage_id(o.find_key("stage")),
          started_empty(o.record_time.empty()) {
        sigs.reserve(o.keys.size());
        for (const KeyData& k : o.keys) {
            sigs.push_back(KeySig::of(k.name));
        }
    }

    SeriesData& out;
    spdlog::logger* log;
    std::string path;
    od::parser line_parser;
    od::parser stream_parser;
    std::size_t window = kMaxWindow;
    TolerantLineParser tolerant;
    Record rec;

    std::vector<std::uint32_t> shape;  // key id at each data position of the last record
    std::vector<KeySig> sigs;          // per key
    const KeySig global_step_sig = KeySig::of("global_step");
    const KeySig step_sig = KeySig::of("step");
    std::uint32_t time_id;
    std::uint32_t stage_id;

    // The record being built (or, after finish(), the last one built).
    std::uint32_t ordinal = 0;
    std::vector<std::uint32_t> touched;  // keys holding an entry of this record
    bool finished = false;
    bool gs_ok = false;
    bool st_ok = false;
    bool time_ok = false;
    std::int64_t gs = 0;
    std::int64_t st = 0;
    double time = 0.0;
    std::uint32_t stage = kNoString;

    bool started_empty;
    bool reserved = false;
    std::uint64_t expected_bytes = 0;
    std::uint64_t bytes_seen = 0;

    void begin() {
        ordinal = static_cast<std::uint32_t>(out.record_time.size());
        touched.clear();
        finished = false;
        gs_ok = st_ok = time_ok = false;
        stage = kNoString;
    }

    // Takes this record's entries back out of the columns.
    void drop_entries() {
        for (std::uint32_t id : touched) {
            KeyData& k = out.keys[id];
            if (k.last_was_side) {
                k.side.pop_back();
            } else {
                k.step.pop_back();
                k.value.pop_back();
                k.ordinal.pop_back();
                if (!k.kind.empty()) {
                    k.kind.pop_back();
                }
            }
            k.last_record = kNoIndex;
        }
        touched.clear();
    }

    void abort() {
        drop_entries();
        finished = false;
    }

    void undo_last() {
        if (!finished) {
            return;
        }
        drop_entries();
        out.record_time.pop_back();
        out.record_step.pop_back();
        out.record_stage.pop_back();
        --out.stats.records;
        finished = false;
    }

    std::uint32_t resolve(std::size_t pos, std::string_view name) {
        std::uint32_t id = 0;
        if (same(name, "global_step")) {
            id = kGlobalStepKey;
        } else if (same(name, "step")) {
            id = kStepKey;
        } else {
            id = out.key_id(name);
            if (sigs.size() <= id) {
                sigs.resize(id + 1);
                sigs[id] = KeySig::of(name);
            }
            if (same(name, "time")) {
                time_id = id;
            } else if (same(name, "stage")) {
                stage_id = id;
            }
        }
        if (shape.size() <= pos) {
            shape.resize(pos + 1, kNoIndex);
        }
        shape[pos] = id;
        return id;
    }

    // The id the previous record had at `pos`, when its raw key text matches; else kNoIndex.
    std::uint32_t guess(std::size_t pos, od::raw_json_string raw) const {
        if (pos >= shape.size()) {
            return kNoIndex;
        }
        const std::uint32_t id = shape[pos];
        const char* text = raw.raw();
        if (id == kGlobalStepKey) {
            return global_step_sig.matches(text) ? id : kNoIndex;
        }
        if (id == kStepKey) {
            return step_sig.matches(text) ? id : kNoIndex;
        }
        if (id == kNoIndex) {
            return kNoIndex;
        }
        const KeySig& sig = sigs[id];
        if (sig.usable) {
            return sig.matches(text) ? id : kNoIndex;
        }
        const std::string& name = out.keys[id].name;
        if (name.find_first_of("\"\\") != std::string::npos) {
            return kNoIndex;
        }
        return raw.unsafe_is_equal(std::string_view(name)) ? id : kNoIndex;
    }

    void add(std::uint32_t id, const FieldValue& v) {
        if (v.type == FieldValue::Type::kOther) {
            return;
        }
        if (id == kGlobalStepKey) {
            gs_ok = step_of(v, gs);
            return;
        }
        if (id == kStepKey) {
            st_ok = step_of(v, st);
            return;
        }
        if (id == time_id) {
            time_ok = v.type == FieldValue::Type::kNumber && v.kind != PointKind::kBool;
            time = v.d;
        } else if (id == stage_id) {
            stage = v.type == FieldValue::Type::kString ? out.string_id(v.s) : kNoString;
        }
        KeyData& k = out.keys[id];
        if (k.last_record == ordinal) {
            // A duplicate key in one record: the last occurrence wins (G7).
            if (k.last_was_side) {
                k.side.pop_back();
            } else {
                k.step.pop_back();
                k.value.pop_back();
                k.ordinal.pop_back();
                if (!k.kind.empty()) {
                    k.kind.pop_back();
                }
            }
        } else {
            touched.push_back(id);
            k.last_record = ordinal;
        }
        if (v.type == FieldValue::Type::kNumber) {
            k.step.push_back(kNoStep);  // patched by finish()
            k.value.push_back(v.d);
            k.ordinal.push_back(ordinal);
            if (!k.kind.empty() || v.kind != PointKind::kDouble) {
                // Materialised on the first non-double point, then kept in step with `value`.
                k.kind.resize(k.value.size() - 1, PointKind::kDouble);
                k.kind.push_back(v.kind);
            }
            k.last_was_side = false;
        } else {
            SideEntry e;
            e.ordinal = ordinal;
            e.str = v.type == FieldValue::Type::kString ? out.string_id(v.s) : kNoString;
            k.side.push_back(e);
            k.last_was_side = true;
        }
    }

    void finish(double ts) {
        if (ordinal >= kNoIndex - 1) {
            abort();  // ordinals are 32-bit; far beyond anything a run writes
            return;
        }
        const std::int64_t s = gs_ok ? gs : (st_ok ? st : kNoStep);
        out.record_time.push_back(time_ok ? time : ts);
        out.record_step.push_back(s);
        out.record_stage.push_back(stage);
        for (std::uint32_t id : touched) {
            KeyData& k = out.keys[id];
            if (k.last_was_side) {
                k.side.back().step = s;
            } else {
                k.step.back() = s;
            }
        }
        ++out.stats.records;
        finished = true;
    }

    // Replays a record of the tolerant parser.
    void commit(const Record& r) {
        begin();
        if (!r.is_metrics || !r.data_is_object) {
            return;
        }
        for (std::size_t pos = 0; pos < r.fields.size(); ++pos) {
            const Field& f = r.fields[pos];
            if (f.v.type != FieldValue::Type::kOther) {
                add(resolve(pos, f.key), f.v);
            }
        }
        finish(r.ts);
    }

    // Builds the record of one simdjson document. Returns false, with nothing kept, when
    // simdjson cannot vouch for the line; true otherwise (`finished` says whether a metrics
    // record was kept).
    template <class Doc>
    bool walk(Doc& doc) {
        begin();
        od::object obj;
        if (doc.get_object().get(obj) != simdjson::SUCCESS) {
            return false;
        }
        bool type_seen = false;
        bool is_metrics = false;
        bool data_ok = false;
        double ts = std::numeric_limits<double>::quiet_NaN();
        for (auto field_result : obj) {
            od::field field;
            if (std::move(field_result).get(field) != simdjson::SUCCESS) {
                abort();
                return false;
            }
            // The envelope keys as written (raw text) first; anything else is unescaped, so
            // an escaped spelling of "data" still counts.
            const char* raw = field.key().raw();
            std::string_view key;
            if (kDataSig.matches(raw)) {
                key = "data";
            } else if (kTypeSig.matches(raw)) {
                key = "type";
            } else if (kTsSig.matches(raw)) {
                key = "ts";
            } else if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
                abort();
                return false;
            }
            od::value v = field.value();
            if (same(key, "data")) {
                abort();  // a second `data` replaces the first (G7)
                begin();
                od::json_type t{};
                if (v.type().get(t) != simdjson::SUCCESS) {
                    return false;
                }
                data_ok = t == od::json_type::object;
                if (!data_ok || (type_seen && !is_metrics)) {
                    continue;  // skipped by the iterator; no keys are made for other types
                }
                od::object data;
                if (v.get_object().get(data) != simdjson::SUCCESS) {
                    return false;
                }
                std::size_t pos = 0;
                for (auto df_result : data) {
                    od::field df;
                    if (std::move(df_result).get(df) != simdjson::SUCCESS) {
                        abort();
                        return false;
                    }
                    std::uint32_t id = guess(pos, df.key());
                    if (id == kNoIndex) {
                        std::string_view name;
                        if (df.unescaped_key().get(name) != simdjson::SUCCESS) {
                            abort();
                            return false;
                        }
                        // Arrays and objects make no key: look at the value first.
                        od::value dv = df.value();
                        FieldValue fv;
                        if (!read_value(dv, fv)) {
                            abort();
                            return false;
                        }
                        if (fv.type != FieldValue::Type::kOther) {
                            add(resolve(pos, name), fv);
                        }
                    } else {
                        od::value dv = df.value();
                        FieldValue fv;
                        if (!read_value(dv, fv)) {
                            abort();
                            return false;
                        }
                        add(id, fv);
                    }
                    ++pos;
                }
            } else if (same(key, "type")) {
                FieldValue fv;
                if (!read_value(v, fv)) {
                    abort();
                    return false;
                }
                type_seen = true;
                is_metrics = fv.type == FieldValue::Type::kString && same(fv.s, "metrics");
            } else if (same(key, "ts")) {
                FieldValue fv;
                if (!read_value(v, fv)) {
                    abort();
                    return false;
                }
                ts = fv.type == FieldValue::Type::kNumber && fv.kind != PointKind::kBool
                         ? fv.d
                         : std::numeric_limits<double>::quiet_NaN();
            }
        }
        if (data_ok && is_metrics) {
            finish(ts);
        } else {
            abort();
        }
        return true;
    }

    void bad_line() {
        ++out.stats.bad_lines;
        if (out.stats.first_bad_line == 0) {
            out.stats.first_bad_line = out.stats.lines;
            if (log != nullptr) {
                log->warn(
                    "'{}' line {}: not a JSON object or longer than 16 MiB; skipped "
                    "(further bad lines in this file are counted, not reported)",
                    path, out.stats.lines);
            }
        }
    }

    void process_line(const char* line, std::size_t len, std::size_t capacity) {
        ++out.stats.lines;
        if (len > 0 && line[len - 1] == '\r') {
            --len;
        }
        if (is_blank(line, len)) {
            return;
        }
        if (len > kMaxLineBytes) {
            bad_line();
            return;
        }
        od::document doc;
        if (line_parser.iterate(line, len, capacity).get(doc) == simdjson::SUCCESS && walk(doc)) {
            // Trailing content after the object makes the line bad; at the end this is
            // OUT_OF_BOUNDS.
            const char* loc = nullptr;
            if (doc.current_location().get(loc) == simdjson::OUT_OF_BOUNDS) {
                return;
            }
            undo_last();
        }
        if (tolerant.parse(std::string_view(line, len), rec)) {
            commit(rec);
            return;
        }
        bad_line();
    }

    void process_lines_one_by_one(const char* data, std::size_t len) {
        std::size_t pos = 0;
        while (pos < len) {
            const auto* nl = static_cast<const char*>(std::memchr(data + pos, '\n', len - pos));
            const std::size_t end = nl == nullptr ? len : static_cast<std::size_t>(nl - data);
            process_line(data + pos, end - pos, len - pos + parser_padding());
            pos = end + 1;
        }
    }

    // Runs simdjson over many lines at once. Each document must start exactly at a line start
    // and the next one at the following line start, which proves it spanned exactly its line. A
    // record is kept only once the next document confirms its end; otherwise it is undone and
    // its line goes to process_line(), as does the last document of each window.
    void process_window(const char* data, std::size_t len) {
        std::size_t pos = 0;
        while (pos < len) {
            const char* w = data + pos;
            std::size_t n = std::min(len - pos, window);
            if (n < len - pos) {
                const void* nl = ::memrchr(w, '\n', n);
                if (nl != nullptr) {
                    n = static_cast<std::size_t>(static_cast<const char*>(nl) - w) + 1;
                } else {
                    const auto* end =
                        static_cast<const char*>(std::memchr(w + n, '\n', len - pos - n));
                    n = static_cast<std::size_t>(end - w) + 1;
                }
            }
            std::size_t stop = 0;  // bytes of w whose lines are done
            od::document_stream stream;
            if (n >= 4096 &&
                stream_parser.iterate_many(w, n, std::max<std::size_t>(n, std::size_t{1} << 16))
                        .get(stream) == simdjson::SUCCESS) {
                bool pending = false;
                std::size_t expected = 0;
                for (auto it = stream.begin(); it != stream.end(); ++it) {
                    const std::size_t idx = it.current_index();
                    if (pending) {
                        if (idx != expected) {
                            break;
                        }
                        ++out.stats.lines;
                        pending = false;
                        stop = expected;
                    }
                    if (idx != expected) {
                        break;
                    }
                    const auto* nl = static_cast<const char*>(std::memchr(w + idx, '\n', n - idx));
                    const std::size_t line_end = static_cast<std::size_t>(nl - w);
                    od::document_reference doc;
                    if (line_end - idx > kMaxLineBytes || (*it).get(doc) != simdjson::SUCCESS ||
                        !walk(doc)) {
                        break;
                    }
                    pending = true;
                    expected = line_end + 1;
                }
                if (pending) {
                    undo_last();  // not proven to end at its newline
                }
            }
            // One line by hand at `stop`, then resume. After a break the next window is kept
            // small, so re-running stage 1 costs at most about twice the bytes done since.
            const auto* nl = static_cast<const char*>(std::memchr(w + stop, '\n', n - stop));
            const std::size_t line_end = static_cast<std::size_t>(nl - w);
            process_line(w + stop, line_end - stop, len - pos - stop + parser_padding());
            const std::size_t used = line_end + 1;
            if (used >= n) {
                window = std::min(kMaxWindow, std::max(window, n) * 2);
            } else {
                window = std::clamp(2 * stop, kMinWindow, kMaxWindow);
            }
            pos += used;
        }
    }

    // On a first build, size the columns from the share of the file parsed so far instead of
    // letting them double (and copy) their way up.
    void maybe_reserve() {
        if (reserved || expected_bytes == 0 || bytes_seen == 0 || !started_empty) {
            return;
        }
        reserved = true;
        const double factor = static_cast<double>(expected_bytes) / static_cast<double>(bytes_seen);
        if (factor < 2.0) {
            return;
        }
        const auto grow = [&](std::size_t n) {
            return static_cast<std::size_t>(static_cast<double>(n) * factor * 1.02) + 16;
        };
        const std::size_t recs = grow(out.record_time.size());
        out.record_time.reserve(recs);
        out.record_step.reserve(recs);
        out.record_stage.reserve(recs);
        for (KeyData& k : out.keys) {
            const std::size_t n = grow(k.value.size());
            k.step.reserve(n);
            k.value.reserve(n);
            k.ordinal.reserve(n);
            if (!k.side.empty()) {
                k.side.reserve(grow(k.side.size()));
            }
        }
    }
};

EventsParser::EventsParser(SeriesData& out, spdlog::logger* log, std::string path)
    : impl_(std::make_unique<Impl>(out, log, std::move(path))) {}

EventsParser::~EventsParser() = default;

void EventsParser::skip_oversized_line() {
    ++impl_->out.stats.lines;
    impl_->bad_line();
}

void EventsParser::expect_bytes(std::uint64_t total) { impl_->expected_bytes = total; }

void EventsParser::parse_lines(const char* data, std::size_t len, bool at_file_start) {
    if (at_file_start && len >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (len < 4096) {
        impl_->process_lines_one_by_one(data, len);
    } else {
        impl_->process_window(data, len);
    }
    impl_->bytes_seen += len;
    impl_->maybe_reserve();
}

}  // namespace runicorn::storage::series
