#include "filter_sql.hpp"

#include <optional>
#include <utility>

namespace runicorn::storage::catalog {
namespace {
using filter::Field;
using filter::FieldKind;
using filter::Literal;
using filter::LiteralKind;
using filter::Node;
using filter::Op;

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string_view sql_op(Op op) {
    switch (op) {
        case Op::kEq:
            return "=";
        case Op::kNe:
            return "!=";
        case Op::kLt:
            return "<";
        case Op::kLe:
            return "<=";
        case Op::kGt:
            return ">";
        case Op::kGe:
            return ">=";
        default:
            return "=";
    }
}

bool is_comparison(Op op) {
    return op == Op::kEq || op == Op::kNe || op == Op::kLt || op == Op::kLe || op == Op::kGt ||
           op == Op::kGe;
}

/// A run column (or an expression over columns) as a filter field.
struct ColumnField {
    std::string_view sql;  ///< Fixed SQL text.
    bool nullable;
    bool text;                    ///< Else a number (seconds for times).
    std::string_view exists_sql;  ///< EXISTS; empty: "the value is not NULL".
};

std::optional<ColumnField> column_field(FieldKind kind) {
    switch (kind) {
        case FieldKind::kId:
            return ColumnField{"run_id", false, true, {}};
        case FieldKind::kPath:
            return ColumnField{"path", true, true, "json_type(meta_json, '$.path') IS NOT NULL"};
        case FieldKind::kAlias:
            // "Present even if null": meta.json's key, not the column.
            return ColumnField{"alias", true, true, "json_type(meta_json, '$.alias') IS NOT NULL"};
        case FieldKind::kStatus:
            return ColumnField{"status", false, true, {}};
        case FieldKind::kExitReason:
            return ColumnField{"exit_reason", true, true, {}};
        case FieldKind::kHostname:
            return ColumnField{"hostname", true, true, {}};
        case FieldKind::kLiveness:
            // As RunListItem's `liveness` names it (kernel/cli, the HTTP API).
            return ColumnField{
                "(CASE liveness WHEN 1 THEN 'alive' WHEN 2 THEN 'unknown' WHEN 3 THEN 'stale' "
                "WHEN 4 THEN 'dead' ELSE (CASE WHEN status = 'running' THEN 'unknown' ELSE "
                "'ended' END) END)",
                false,
                true,
                {}};
        case FieldKind::kCreated:
            return ColumnField{"created_at", true, false, {}};
        case FieldKind::kStarted:
            return ColumnField{"started_at", true, false, {}};
        case FieldKind::kEnded:
            return ColumnField{"ended_at", true, false, {}};
        case FieldKind::kDuration:
            return ColumnField{"(ended_at - started_at)", true, false, {}};
        case FieldKind::kLastStep:
            return ColumnField{"last_step", true, false, {}};
        default:
            return std::nullopt;
    }
}

/// Builds SQL left to right, keeping each parameter in step with its `?`.
/// Thread safety: externally synchronized.
class Builder {
public:
    explicit Builder(double now) : now_(now) {}

    SqlFragment take() { return std::move(out_); }

    Status node(const Node& n) {
        switch (n.kind) {
            case Node::Kind::kAnd:
            case Node::Kind::kOr: {
                add("(");
                for (std::size_t i = 0; i < n.children.size(); ++i) {
                    if (i > 0) {
                        add(n.kind == Node::Kind::kAnd ? " AND " : " OR ");
                    }
                    RUNICORN_RETURN_IF_ERROR(node(n.children[i]));
                }
                add(")");
                return Status::ok();
            }
            case Node::Kind::kNot:
                add("(NOT ");
                RUNICORN_RETURN_IF_ERROR(node(n.children.front()));
                add(")");
                return Status::ok();
            case Node::Kind::kText:
                // search_text: the lower-cased id, alias, path and tags, one per line.
                add("(instr(search_text, ?) > 0)");
                param(ascii_lower(n.text));
                return Status::ok();
            case Node::Kind::kPredicate:
                return predicate(n);
        }
        return Status::ok();
    }

private:
    void add(std::string_view sql) { out_.sql += sql; }
    void param(SqlValue v) { out_.params.push_back(std::move(v)); }

    double number_of(const Literal& l) const {
        return l.kind == LiteralKind::kNow ? now_ + l.number : l.number;
    }
    static bool is_number(const Literal& l) {
        return l.kind == LiteralKind::kNumber || l.kind == LiteralKind::kNow;
    }

    Status predicate(const Node& n) {
        const Field& f = n.field;
        if (f.kind == FieldKind::kMetric) {
            return metric(n);
        }
        if (f.kind == FieldKind::kTags) {
            tags(n);
            return Status::ok();
        }
        if (const auto col = column_field(f.kind)) {
            column_predicate(*col, n);
            return Status::ok();
        }
        json_predicate(n);
        return Status::ok();
    }

    /// IN as an OR of =, NOT IN as an AND of != (each typed, so each never NULL).
    template <class Compare>
    void in_list(const Node& n, Compare&& compare) {
        const bool in = n.op == Op::kIn;
        add("(");
        for (std::size_t i = 0; i < n.literals.size(); ++i) {
            if (i > 0) {
                add(in ? " OR " : " AND ");
            }
            compare(in ? Op::kEq : Op::kNe, n.literals[i]);
        }
        add(")");
    }

    // --- tags: the run_tags table ---

    void tags(const Node& n) {
        if (n.op == Op::kExists) {
            add("(json_type(meta_json, '$.tags') IS NOT NULL)");
            return;
        }
        std::vector<std::string> wanted;
        for (const auto& l : n.literals) {
            if (l.kind == LiteralKind::kString) {
                wanted.push_back(l.text);
            }
        }
        if (wanted.empty()) {
            // A tag is a string: no other literal is ever in the list.
            add(n.op == Op::kNotIn ? "1" : "0");
            return;
        }
        add(n.op == Op::kNotIn ? "(NOT EXISTS" : "(EXISTS");
        add(" (SELECT 1 FROM run_tags rt WHERE rt.run_key = runs.run_key AND rt.tag IN (");
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            add(i == 0 ? "?" : ", ?");
            param(wanted[i]);
        }
        add(")))");
    }

    // --- metric.<key>.<stat>: the run_metric_keys table ---

    /// A number compared in the run's row for the key; a run without the key (or whose value is
    /// NULL: no numeric point, or a NaN last value) does not match, so NOT matches it.
    Status metric(const Node& n) {
        const Field& f = n.field;
        if (f.keys.size() != 2) {
            return filter::Error{filter::ErrorCode::kField, "expected metric.<key>.<statistic>",
                                 f.position}
                .to_status();
        }
        const std::string& stat = f.keys[1];
        std::string_view column;
        if (stat == "last") {
            column = "m.last";
        } else if (stat == "min") {
            column = "m.min";
        } else if (stat == "max") {
            column = "m.max";
        } else if (stat == "count") {
            column = "m.count";
        } else {
            return filter::Error{filter::ErrorCode::kField,
                                 "expected metric.<key>.last, .min, .max or .count", f.position}
                .to_status();
        }
        const auto open = [&] {
            add("(EXISTS (SELECT 1 FROM run_metric_keys m WHERE m.run_key = runs.run_key AND "
                "m.key = ?");
            param(f.keys[0]);
        };
        if (n.op == Op::kExists) {
            open();
            add("))");
            return Status::ok();
        }
        const auto compare = [&](Op op, const Literal& l) {
            if (l.kind == LiteralKind::kNull) {
                // A statistic is a number or missing: "= NULL" holds for a key without a value.
                if (op == Op::kEq || op == Op::kNe) {
                    open();
                    add(" AND ");
                    add(column);
                    add(op == Op::kEq ? " IS NULL))" : " IS NOT NULL))");
                } else {
                    add("0");
                }
                return;
            }
            if (!is_number(l) || !is_comparison(op)) {
                add("0");  // type mismatch
                return;
            }
            open();
            add(" AND ");
            add(column);
            add(" IS NOT NULL AND ");
            add(column);
            add(" ");
            add(sql_op(op));
            add(" ?))");
            param(number_of(l));
        };
        if (n.op == Op::kIn || n.op == Op::kNotIn) {
            in_list(n, compare);
            return Status::ok();
        }
        if (n.literals.empty()) {
            add("0");
            return Status::ok();
        }
        compare(n.op, n.literals.front());
        return Status::ok();
    }

    // --- run columns ---

    void column_predicate(const ColumnField& c, const Node& n) {
        if (n.op == Op::kExists) {
            if (!c.exists_sql.empty()) {
                add("(");
                add(c.exists_sql);
                add(")");
            } else {
                add(c.nullable ? "(" + std::string(c.sql) + " IS NOT NULL)" : "1");
            }
            return;
        }
        if (n.op == Op::kIn || n.op == Op::kNotIn) {
            in_list(n, [&](Op op, const Literal& l) { column_compare(c, n.field, op, l); });
            return;
        }
        if (n.op == Op::kHas) {
            add("0");  // not a list (the parser refuses it)
            return;
        }
        column_compare(c, n.field, n.op, n.literals.front());
    }

    /// `(col IS NOT NULL AND <expr>)` for a nullable column, so the result is never NULL.
    void guarded(const ColumnField& c, const std::string& expr) {
        add("(");
        if (c.nullable) {
            add(c.sql);
            add(" IS NOT NULL AND ");
        }
        add(expr);
        add(")");
    }

    void column_compare(const ColumnField& c, const Field& f, Op op, const Literal& l) {
        const std::string col(c.sql);
        if (l.kind == LiteralKind::kNull) {
            if (op == Op::kEq || op == Op::kNe) {
                add(c.nullable ? "(" + col + (op == Op::kEq ? " IS NULL)" : " IS NOT NULL)")
                               : (op == Op::kEq ? "0" : "1"));
            } else {
                add("0");
            }
            return;
        }
        if (c.text) {
            if (l.kind != LiteralKind::kString) {
                add("0");  // type mismatch
                return;
            }
            if (op == Op::kUnder) {
                under(c, f, l.text);
            } else if (op == Op::kGlob || op == Op::kNotGlob) {
                guarded(
                    c, std::string(op == Op::kNotGlob ? "NOT " : "") + "lower(" + col + ") GLOB ?");
                param(filter::glob_to_sqlite(l.text));
            } else {
                guarded(c, col + " " + std::string(sql_op(op)) + " ?");
                param(l.text);
            }
            return;
        }
        if (!is_number(l) || !is_comparison(op)) {
            add("0");  // type mismatch
            return;
        }
        guarded(c, col + " " + std::string(sql_op(op)) + " ?");
        param(number_of(l));
    }

    /// The prefix rule (FORMAT.md §3.3): equal, or starting with prefix + "/" — one range an
    /// index serves ('0' follows '/').
    void under(const ColumnField& c, const Field& f, std::string prefix) {
        if (f.kind == FieldKind::kPath) {
            // A run path has no leading or trailing '/'; "" or "/" is the root path.
            while (!prefix.empty() && prefix.back() == '/') {
                prefix.pop_back();
            }
            while (!prefix.empty() && prefix.front() == '/') {
                prefix.erase(prefix.begin());
            }
            if (prefix.empty()) {
                add("(path IS NULL)");
                return;
            }
        }
        const std::string col(c.sql);
        guarded(c, "(" + col + " = ? OR (" + col + " >= ? AND " + col + " < ?))");
        param(prefix);
        param(prefix + "/");
        param(prefix + "0");
    }

    // --- JSON columns: summary, config, meta ---

    /// Appends json_<fn>(<column>, <path>) for the field, with the path's parameters.
    void json_call(std::string_view fn, const Field& f) {
        std::string_view column = "summary_json";
        if (f.kind == FieldKind::kMeta) {
            column = "meta_json";
        } else if (f.kind != FieldKind::kSummary) {
            column = "config_json";
        }
        add(fn);
        add("(runs.");
        add(column);
        add(", ");
        json_path_expr(f);
        add(")");
    }

    void json_path_expr(const Field& f) {
        switch (f.kind) {
            case FieldKind::kConfig: {
                // config.<key>: config.args.<key> when args has the key (even null), else extra.
                std::vector<std::string> args{"args"};
                std::vector<std::string> extra{"extra"};
                args.insert(args.end(), f.keys.begin(), f.keys.end());
                extra.insert(extra.end(), f.keys.begin(), f.keys.end());
                add("(CASE WHEN json_type(runs.config_json, ?) IS NOT NULL THEN ? ELSE ? END)");
                param(json_path(args));
                param(json_path(args));
                param(json_path(extra));
                return;
            }
            case FieldKind::kConfigArgs:
            case FieldKind::kConfigExtra: {
                std::vector<std::string> keys{f.kind == FieldKind::kConfigArgs ? "args" : "extra"};
                keys.insert(keys.end(), f.keys.begin(), f.keys.end());
                add("?");
                param(json_path(keys));
                return;
            }
            default:
                add("?");
                param(json_path(f.keys));
                return;
        }
    }

    void json_predicate(const Node& n) {
        const Field& f = n.field;
        switch (n.op) {
            case Op::kExists:
                add("(");
                json_call("json_type", f);
                add(" IS NOT NULL)");
                return;
            case Op::kIn:
            case Op::kNotIn:
                in_list(n, [&](Op op, const Literal& l) { json_compare(f, op, l); });
                return;
            case Op::kHas:
                json_has(f, n.literals.front());
                return;
            default:
                json_compare(f, n.op, n.literals.front());
                return;
        }
    }

    /// One typed comparison, wrapped in COALESCE(..., 0): a missing key gives NULL from
    /// json_type, and the predicate is then false rather than NULL.
    void json_compare(const Field& f, Op op, const Literal& l) {
        add("COALESCE(");
        switch (l.kind) {
            case LiteralKind::kNull:
                json_call("json_type", f);
                add(op == Op::kEq ? " = 'null'" : op == Op::kNe ? " != 'null'" : " IS NULL AND 0");
                break;
            case LiteralKind::kNumber:
            case LiteralKind::kNow:
                if (!is_comparison(op)) {
                    add("0");
                    break;
                }
                json_call("json_type", f);
                add(" IN ('integer', 'real') AND ");
                json_call("json_extract", f);
                add(" ");
                add(sql_op(op));
                add(" ?");
                param(number_of(l));
                break;
            case LiteralKind::kBool:
                if (!is_comparison(op)) {
                    add("0");
                    break;
                }
                // false < true, as 0 < 1.
                json_call("json_type", f);
                add(" IN ('true', 'false') AND (");
                json_call("json_type", f);
                add(" = 'true') ");
                add(sql_op(op));
                add(" ?");
                param(std::int64_t{l.boolean ? 1 : 0});
                break;
            case LiteralKind::kString:
                json_call("json_type", f);
                add(" = 'text' AND ");
                if (op == Op::kUnder) {
                    add("(");
                    json_call("json_extract", f);
                    add(" = ? OR (");
                    param(l.text);
                    json_call("json_extract", f);
                    add(" >= ? AND ");
                    param(l.text + "/");
                    json_call("json_extract", f);
                    add(" < ?))");
                    param(l.text + "0");
                } else if (op == Op::kGlob || op == Op::kNotGlob) {
                    add(op == Op::kNotGlob ? "NOT lower(" : "lower(");
                    json_call("json_extract", f);
                    add(") GLOB ?");
                    param(filter::glob_to_sqlite(l.text));
                } else {
                    json_call("json_extract", f);
                    add(" ");
                    add(sql_op(op));
                    add(" ?");
                    param(l.text);
                }
                break;
        }
        add(", 0)");
    }

    /// HAS: the value is a JSON array holding an element equal to the literal (typed).
    void json_has(const Field& f, const Literal& l) {
        add("COALESCE(");
        json_call("json_type", f);
        add(" = 'array' AND EXISTS (SELECT 1 FROM ");
        json_call("json_each", f);
        add(" je WHERE ");
        switch (l.kind) {
            case LiteralKind::kNull:
                add("je.type = 'null'");
                break;
            case LiteralKind::kBool:
                add(l.boolean ? "je.type = 'true'" : "je.type = 'false'");
                break;
            case LiteralKind::kString:
                add("je.type = 'text' AND je.value = ?");
                param(l.text);
                break;
            case LiteralKind::kNumber:
            case LiteralKind::kNow:
                add("je.type IN ('integer', 'real') AND je.value = ?");
                param(number_of(l));
                break;
        }
        add("), 0)");
    }

    double now_;
    SqlFragment out_;
};

}  // namespace

std::string json_path(const std::vector<std::string>& keys) {
    std::string path = "$";
    for (const auto& k : keys) {
        path += ".\"" + k + "\"";
    }
    return path;
}

Result<SqlFragment> compile_filter(const filter::Expression& expression, double now) {
    if (!expression.root) {
        return SqlFragment{"1", {}};
    }
    Builder b(now);
    RUNICORN_RETURN_IF_ERROR(b.node(*expression.root));
    return b.take();
}

}  // namespace runicorn::storage::catalog
