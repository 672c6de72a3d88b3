#include "openapi_routes.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin {
namespace {

namespace json = boost::json;

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// "/api/runs/:run_id" -> "/api/runs/{run_id}" and the path parameter names.
std::pair<std::string, std::vector<std::string>> openapi_path(std::string_view pattern) {
    std::string out;
    std::vector<std::string> params;
    std::size_t i = 0;
    while (i < pattern.size()) {
        if (pattern[i] == ':' && i > 0 && pattern[i - 1] == '/') {
            const std::size_t end = pattern.find('/', i);
            std::string name(pattern.substr(i + 1, end - i - 1));
            out += "{" + name + "}";
            params.push_back(std::move(name));
            i = end == std::string_view::npos ? pattern.size() : end;
        } else {
            out.push_back(pattern[i++]);
        }
    }
    return {out, params};
}

std::string default_tag(std::string_view pattern) {
    std::string_view rest = pattern;
    if (rest.starts_with("/api/")) {
        rest.remove_prefix(5);
    } else if (!rest.empty()) {
        rest.remove_prefix(1);
    }
    const std::string_view first = rest.substr(0, rest.find('/'));
    return first.empty() || first.front() == ':' ? std::string("meta") : std::string(first);
}

std::string operation_id(const plugin::RouteSpec& spec) {
    std::string id = to_lower(spec.method) + "_";
    for (const char c : spec.pattern) {
        id.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_');
    }
    return id;
}

std::optional<json::value> schema_of(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        return std::nullopt;
    }
    return v;
}

json::object parameter(const std::string& name, const std::string& in, bool required,
                       const std::string& type, const std::string& description) {
    json::object p;
    p["name"] = name;
    p["in"] = in;
    p["required"] = required;
    p["schema"] = json::object{{"type", type}};
    if (!description.empty()) {
        p["description"] = description;
    }
    return p;
}

constexpr std::string_view kDocsPage = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runicorn API</title>
<style>
  :root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #f6f8fa;
          --card: #ffffff; --line: #d1d9e0; --accent: #8250df; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #151b23; --line: #3d444d;
            --accent: #ab7df8; }
  }
  body { margin: 0; background: var(--bg); color: var(--fg);
         font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { max-width: 1000px; margin: 32px auto; padding: 0 20px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 28px 0 8px; text-transform: capitalize; }
  .lead, .muted { color: var(--muted); }
  input { width: 100%; padding: 8px 10px; margin: 12px 0; border: 1px solid var(--line);
          border-radius: 6px; background: var(--card); color: var(--fg); }
  details { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
            margin: 6px 0; padding: 6px 12px; }
  summary { cursor: pointer; }
  code, pre { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { overflow: auto; background: var(--bg); padding: 8px; border-radius: 6px; }
  .m { display: inline-block; min-width: 64px; font-weight: 700; color: var(--accent); }
  .tag { font-size: 11px; border: 1px solid var(--line); border-radius: 10px; padding: 0 6px;
         margin-left: 6px; color: var(--muted); }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; border-top: 1px solid var(--line); padding: 4px 6px; }
</style>
</head>
<body>
<main>
<h1>Runicorn API</h1>
<p class="lead" id="info">Loading <a href="/openapi.json">/openapi.json</a> ...</p>
<input id="filter" type="search" placeholder="Filter by path, method or summary">
<div id="ops"></div>
</main>
<script src="/docs/docs.js"></script>
</body>
</html>
)";

constexpr std::string_view kDocsScript = R"JS('use strict';
(function () {
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function render(doc) {
    var info = document.getElementById('info');
    info.textContent = (doc.info && doc.info.title ? doc.info.title : 'API') + ' ' +
      (doc.info && doc.info.version ? doc.info.version : '') + ' \u00b7 OpenAPI ' + doc.openapi;
    var groups = {};
    Object.keys(doc.paths || {}).sort().forEach(function (path) {
      var item = doc.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method];
        var tag = (op.tags && op.tags[0]) || 'other';
        (groups[tag] = groups[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    var root = document.getElementById('ops');
    root.textContent = '';
    Object.keys(groups).sort().forEach(function (tag) {
      var section = el('section');
      section.appendChild(el('h2', tag));
      groups[tag].forEach(function (entry) {
        var d = el('details');
        d.dataset.search = (entry.method + ' ' + entry.path + ' ' + (entry.op.summary || '')).toLowerCase();
        var s = el('summary');
        s.appendChild(el('span', entry.method.toUpperCase(), 'm'));
        s.appendChild(el('code', entry.path));
        s.appendChild(el('span', ' ' + (entry.op.summary || ''), 'muted'));
        if (entry.op['x-runicorn-compat']) s.appendChild(el('span', 'v0.6 compatible', 'tag'));
        if (entry.op['x-runicorn-stream']) s.appendChild(el('span', entry.op['x-runicorn-stream'].protocol, 'tag'));
        d.appendChild(s);
        if (entry.op.description) d.appendChild(el('p', entry.op.description));
        var params = entry.op.parameters || [];
        if (params.length) {
          var t = el('table');
          var h = el('tr');
          ['name', 'in', 'type', 'required', 'description'].forEach(function (c) { h.appendChild(el('th', c)); });
          t.appendChild(h);
          params.forEach(function (p) {
            var r = el('tr');
            r.appendChild(el('td', p.name));
            r.appendChild(el('td', p['in']));
            r.appendChild(el('td', p.schema && p.schema.type));
            r.appendChild(el('td', p.required ? 'yes' : 'no'));
            r.appendChild(el('td', p.description || ''));
            t.appendChild(r);
          });
          d.appendChild(t);
        }
        var body = entry.op.requestBody;
        if (body) {
          d.appendChild(el('p', 'Request body', 'muted'));
          d.appendChild(el('pre', JSON.stringify(body.content['application/json'].schema, null, 2)));
        }
        var ok = entry.op.responses && entry.op.responses['200'];
        if (ok && ok.content) {
          d.appendChild(el('p', 'Response', 'muted'));
          d.appendChild(el('pre', JSON.stringify(ok.content['application/json'].schema, null, 2)));
        }
        section.appendChild(d);
      });
      root.appendChild(section);
    });
  }
  document.getElementById('filter').addEventListener('input', function (ev) {
    var q = ev.target.value.toLowerCase();
    document.querySelectorAll('details').forEach(function (d) {
      d.style.display = d.dataset.search.indexOf(q) >= 0 ? '' : 'none';
    });
  });
  fetch('/openapi.json', { credentials: 'same-origin' })
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status + (r.status === 401 ? ' (sign in first)' : ''));
      return r.json();
    })
    .then(render)
    .catch(function (e) { document.getElementById('info').textContent = 'Cannot load /openapi.json: ' + e.message; });
})();
)JS";

}  // namespace

json::object openapi_document(const std::vector<plugin::RouteSpec>& routes,
                              const std::string& version) {
    json::object paths;
    std::map<std::string, bool> tags;
    for (const plugin::RouteSpec& spec : routes) {
        auto [path, path_params] = openapi_path(spec.pattern);
        json::object op;
        op["summary"] = spec.summary;
        if (!spec.description.empty()) {
            op["description"] = spec.description;
        }
        op["operationId"] = operation_id(spec);
        json::array op_tags;
        if (spec.tags.empty()) {
            op_tags.emplace_back(default_tag(spec.pattern));
        } else {
            for (const std::string& t : spec.tags) {
                op_tags.emplace_back(t);
            }
        }
        for (const auto& t : op_tags) {
            tags[std::string(t.as_string())] = true;
        }
        op["tags"] = std::move(op_tags);
        json::array params;
        for (const std::string& name : path_params) {
            std::string type = "string";
            std::string description;
            for (const plugin::RouteParameter& p : spec.parameters) {
                if (p.in == "path" && p.name == name) {
                    type = p.type;
                    description = p.description;
                }
            }
            params.emplace_back(parameter(name, "path", true, type, description));
        }
        for (const plugin::RouteParameter& p : spec.parameters) {
            if (p.in != "path") {
                params.emplace_back(parameter(p.name, p.in, p.required, p.type, p.description));
            }
        }
        if (!params.empty()) {
            op["parameters"] = std::move(params);
        }
        if (auto schema = schema_of(spec.request_schema)) {
            op["requestBody"] = json::object{
                {"required", true},
                {"content",
                 json::object{{"application/json", json::object{{"schema", std::move(*schema)}}}}}};
        }
        json::object ok{{"description", spec.stream.empty() ? "Success" : "Stream"}};
        if (auto schema = schema_of(spec.response_schema)) {
            ok["content"] =
                json::object{{"application/json", json::object{{"schema", std::move(*schema)}}}};
        }
        json::object error_schema{
            {"description", "Error"},
            {"content",
             json::object{{"application/json",
                           json::object{{"schema",
                                         json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
        op["responses"] = json::object{{spec.stream == "websocket" ? "101" : "200", std::move(ok)},
                                       {"default", std::move(error_schema)}};
        op["x-runicorn-compat"] = spec.compat;
        if (!spec.stream.empty()) {
            op["x-runicorn-stream"] = json::object{{"protocol", spec.stream}};
        }
        json::value& item = paths[path];
        if (!item.is_object()) {
            item = json::object{};
        }
        item.as_object()[to_lower(spec.method)] = std::move(op);
    }
    json::array tag_list;
    for (const auto& [name, unused] : tags) {
        tag_list.emplace_back(json::object{{"name", name}});
    }
    json::object error{{"type", "object"},
                       {"properties", json::object{{"detail", json::object{}},
                                                   {"code", json::object{{"type", "string"}}}}},
                       {"required", json::array{"detail"}}};
    return json::object{
        {"openapi", "3.1.0"},
        {"info", json::object{{"title", "Runicorn"},
                              {"version", version},
                              {"description",
                               "The Runicorn viewer's REST API (runicorn-cpp, compatible with "
                               "Runicorn 0.6)."}}},
        {"paths", std::move(paths)},
        {"tags", std::move(tag_list)},
        {"components",
         json::object{
             {"schemas", json::object{{"Error", std::move(error)}}},
             {"securitySchemes",
              json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}},
                           {"header", json::object{{"type", "apiKey"},
                                                   {"in", "header"},
                                                   {"name", "X-Runicorn-Token"}}}}}}},
        {"security", json::array{json::object{}, json::object{{"bearer", json::array{}}},
                                 json::object{{"header", json::array{}}}}},
    };
}

Status add_openapi_routes(const std::shared_ptr<RouteTable>& table, std::string version) {
    std::weak_ptr<RouteTable> weak = table;
    plugin::RouteSpec doc{"GET", "/openapi.json", "This OpenAPI 3.1 document"};
    doc.tags = {"docs"};
    RUNICORN_RETURN_IF_ERROR(
        table->add_route(std::move(doc), make_handler([weak, version](const plugin::HttpRequest&) {
                             auto routes = weak.lock();
                             if (routes == nullptr) {
                                 return error_response(503, "The server is stopping");
                             }
                             return json_response(200, openapi_document(routes->routes(), version));
                         })));
    plugin::RouteSpec docs{"GET", "/docs", "API documentation (offline HTML)"};
    docs.tags = {"docs"};
    RUNICORN_RETURN_IF_ERROR(
        table->add_route(std::move(docs), make_handler([](const plugin::HttpRequest&) {
                             plugin::HttpResponse r;
                             r.content_type = std::string(kHtmlType);
                             r.body = std::string(kDocsPage);
                             r.headers.emplace_back("Cache-Control", "no-cache");
                             return r;
                         })));
    plugin::RouteSpec script{"GET", "/docs/docs.js", "The script of /docs"};
    script.tags = {"docs"};
    RUNICORN_RETURN_IF_ERROR(
        table->add_route(std::move(script), make_handler([](const plugin::HttpRequest&) {
                             plugin::HttpResponse r;
                             r.content_type = "text/javascript; charset=utf-8";
                             r.body = std::string(kDocsScript);
                             r.headers.emplace_back("Cache-Control", "no-cache");
                             return r;
                         })));
    plugin::RouteSpec redoc{"GET", "/redoc", "Redirects to /docs (v0.6 served both)", true};
    redoc.tags = {"docs"};
    return table->add_route(std::move(redoc), make_handler([](const plugin::HttpRequest&) {
                                plugin::HttpResponse r;
                                r.status = 301;
                                r.content_type.clear();
                                r.headers.emplace_back("Location", "/docs");
                                return r;
                            }));
}

}  // namespace runicorn::http_plugin
