#include "builtin_routes.hpp"

#include <string>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "http_router.hpp"
#include "responses.hpp"

namespace runicorn::http_plugin {
namespace {

constexpr std::string_view kCompatVersion = "0.6.0";
constexpr std::string_view kImplementation = "runicorn-cpp";

boost::json::array string_array(const std::vector<std::string>& items) {
    boost::json::array out;
    out.reserve(items.size());
    for (const std::string& s : items) {
        out.emplace_back(s);
    }
    return out;
}

boost::json::object plugin_entry(const plugin::PluginReport& report) {
    boost::json::object out;
    out["id"] = report.id;
    out["version"] = report.version;
    out["abi_version"] = report.abi_version;
    out["path"] = report.path;
    out["state"] = report.state;
    out["provides"] = string_array(report.provides);
    out["requires"] = string_array(report.requires_services);
    if (report.error.empty()) {
        out["error"] = nullptr;
    } else {
        out["error"] = report.error;
    }
    return out;
}

plugin::HttpResponse kernel_missing() {
    return error_response(503, "Kernel information is not available");
}

std::string version_of(const BuiltinContext& context) {
    return context.kernel != nullptr ? context.kernel->version() : std::string("unknown");
}

constexpr std::string_view kPageHead = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runicorn</title>
<style>
  :root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #f6f8fa;
          --card: #ffffff; --line: #d1d9e0; --ok: #1a7f37; --bad: #cf222e; --accent: #8250df; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #151b23; --line: #3d444d;
            --ok: #3fb950; --bad: #f85149; --accent: #ab7df8; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--fg);
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { max-width: 860px; margin: 48px auto; padding: 0 20px; }
  h1 { margin: 0 0 4px; font-size: 28px; }
  h1 span { color: var(--accent); }
  h2 { font-size: 17px; margin: 0 0 12px; }
  .lead { color: var(--muted); margin: 0 0 24px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
          padding: 20px 24px; margin-bottom: 20px; }
  .status { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
            background: var(--ok); margin-right: 8px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 20px; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; word-break: break-all; }
  code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 8px 10px; border-top: 1px solid var(--line);
           vertical-align: top; }
  th { color: var(--muted); font-weight: 600; border-top: none; }
  .state-loaded { color: var(--ok); }
  .state-refused { color: var(--bad); }
  .state-disabled { color: var(--muted); }
  .error { color: var(--bad); font-size: 13px; }
  a { color: var(--accent); }
  footer { color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<main>
)";

std::string render_page(const BuiltinContext& context) {
    std::string html(kPageHead);
    html += "<h1><span>&#9670;</span> Runicorn</h1>\n";
    html += "<p class=\"lead\"><span class=\"status\"></span>The viewer is running.</p>\n";
    html += "<section class=\"card\">\n<h2>Viewer</h2>\n<dl>\n";
    html += "<dt>Version</dt><dd>" + html_escape(version_of(context)) + "</dd>\n";
    html += "<dt>Storage root</dt><dd><code>" + html_escape(context.storage_root.string()) +
            "</code></dd>\n";
    html +=
        "<dt>API</dt><dd><a href=\"/api/health\">/api/health</a> &middot; "
        "<a href=\"/api/plugins\">/api/plugins</a></dd>\n";
    html += "</dl>\n</section>\n";
    html += "<section class=\"card\">\n<h2>Plugins</h2>\n";
    if (context.kernel == nullptr) {
        html += "<p>Plugin information is not available.</p>\n";
    } else {
        html +=
            "<table>\n<thead><tr><th>Plugin</th><th>Version</th><th>State</th></tr></thead>\n"
            "<tbody>\n";
        for (const plugin::PluginReport& p : context.kernel->plugins()) {
            html += "<tr><td><code>" + html_escape(p.id) + "</code></td><td>" +
                    html_escape(p.version) + "</td><td class=\"state-" + html_escape(p.state) +
                    "\">" + html_escape(p.state);
            if (!p.error.empty()) {
                html += "<div class=\"error\">" + html_escape(p.error) + "</div>";
            }
            html += "</td></tr>\n";
        }
        html += "</tbody>\n</table>\n";
    }
    html += "</section>\n";
    html +=
        "<section class=\"card\">\n<h2>Web UI</h2>\n<p>The web UI is not built yet. This page "
        "stands in for it until then; the REST API is served under <code>/api</code> and "
        "documented at <a href=\"/docs\">/docs</a>.</p>\n<p>To build the UI, run "
        "<code>cmake --build &lt;build dir&gt; --target web_ui</code> (needs Node.js 18 or newer "
        "and npm); it lands in the http plugin&#39;s <code>web/</code> folder and is served at "
        "once. Or point <code>RUNICORN_FRONTEND_DIST</code> at a built <code>dist</code> "
        "folder and restart the viewer.</p>\n</section>\n";
    html += "<footer>runicorn-cpp &middot; compatible with Runicorn " +
            std::string(kCompatVersion) + "</footer>\n</main>\n</body>\n</html>\n";
    return html;
}

}  // namespace

Status add_builtin_routes(RouteTable& routes, const BuiltinContext& context) {
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route({"GET", "/api/health", "Liveness, storage root and version", true},
                         make_handler([context](const plugin::HttpRequest& request) {
                             boost::json::object body;
                             body["status"] = "ok";
                             body["storage"] = context.storage_root.string();
                             body["version"] = version_of(context);
                             body["compat_version"] = kCompatVersion;
                             body["implementation"] = kImplementation;
                             if (context.health_extension) {
                                 context.health_extension(request, body);
                             }
                             if (auto nonce = request.query_value("nonce")) {
                                 body["nonce"] = *nonce;
                             }
                             return json_response(200, body);
                         })));
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route({"GET", "/api/plugins", "Every plugin found, loaded or not", false},
                         make_handler([context](const plugin::HttpRequest& /*request*/) {
                             if (context.kernel == nullptr) {
                                 return kernel_missing();
                             }
                             boost::json::array plugins;
                             for (const plugin::PluginReport& report : context.kernel->plugins()) {
                                 plugins.emplace_back(plugin_entry(report));
                             }
                             boost::json::object kernel;
                             kernel["version"] = context.kernel->version();
                             kernel["abi_version"] = context.kernel->abi_version();
                             boost::json::object body;
                             body["plugins"] = std::move(plugins);
                             body["kernel"] = std::move(kernel);
                             return json_response(200, body);
                         })));
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route({"GET", "/api/plugins/:id", "One plugin", false},
                         make_handler([context](const plugin::HttpRequest& request) {
                             if (context.kernel == nullptr) {
                                 return kernel_missing();
                             }
                             const std::string id = request.param("id").value_or("");
                             for (const plugin::PluginReport& report : context.kernel->plugins()) {
                                 if (report.id == id) {
                                     return json_response(200, plugin_entry(report));
                                 }
                             }
                             return error_response(404, "Plugin '" + id + "' not found");
                         })));
    return Status::ok();
}

std::shared_ptr<plugin::RouteHandler> make_ui_placeholder(BuiltinContext context) {
    return make_handler([context = std::move(context)](const plugin::HttpRequest& /*request*/) {
        plugin::HttpResponse response;
        response.content_type = std::string(kHtmlType);
        response.body = render_page(context);
        response.headers.emplace_back("Cache-Control", "no-cache");
        return response;
    });
}

}  // namespace runicorn::http_plugin
