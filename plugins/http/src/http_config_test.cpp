#include "http_config.hpp"

#include <string>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runicorn::http_plugin {
namespace {

using ::testing::ElementsAre;

boost::json::object obj(std::string_view text) { return boost::json::parse(text).as_object(); }

Status error_of(std::string_view text) {
    auto r = parse_http_config(obj(text));
    return r.has_value() ? Status::ok() : r.error();
}

TEST(HttpConfigTest, DefaultsWhenEmpty) {
    auto config = parse_http_config({});
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->host, "127.0.0.1");
    EXPECT_EQ(config->port, 23300);
    EXPECT_EQ(config->threads, 2U);
    EXPECT_TRUE(config->allowed_hosts.empty());
    EXPECT_TRUE(config->ignored_keys.empty());
}

TEST(HttpConfigTest, ReadsEveryField) {
    auto config = parse_http_config(obj(
        R"({"host": "::1", "port": 0, "threads": 4, "allowed_hosts": ["MyBox.lan", "[fe80::1]"],
            "colour": "blue"})"));
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->host, "::1");
    EXPECT_EQ(config->port, 0);
    EXPECT_EQ(config->threads, 4U);
    EXPECT_THAT(config->allowed_hosts, ElementsAre("mybox.lan", "[fe80::1]"));
    EXPECT_THAT(config->ignored_keys, ElementsAre("colour"));
}

TEST(HttpConfigTest, AcceptsLoopbackHosts) {
    for (const char* host : {"127.0.0.1", "127.9.9.9", "localhost", "::1"}) {
        auto config = parse_http_config(obj(R"({"host": ")" + std::string(host) + R"("})"));
        EXPECT_TRUE(config.has_value()) << host;
    }
    EXPECT_EQ(parse_http_config(obj(R"({"port": 65535})")).value().port, 65535);
}

TEST(HttpConfigTest, RefusesBadPort) {
    const Status expected =
        Status::invalid_argument("/port must be an integer between 0 and 65535");
    EXPECT_EQ(error_of(R"({"port": "23300"})"), expected);
    EXPECT_EQ(error_of(R"({"port": -1})"), expected);
    EXPECT_EQ(error_of(R"({"port": 65536})"), expected);
    EXPECT_EQ(error_of(R"({"port": 18446744073709551615})"), expected);
    EXPECT_EQ(error_of(R"({"port": 80.5})"), expected);
    EXPECT_EQ(error_of(R"({"port": 8080.0})"), expected);
    EXPECT_EQ(error_of(R"({"port": null})"), expected);
    EXPECT_EQ(error_of(R"({"port": true})"), expected);
}

TEST(HttpConfigTest, RefusesBadThreads) {
    const Status expected =
        Status::invalid_argument("/threads must be an integer between 1 and 64");
    EXPECT_EQ(error_of(R"({"threads": 0})"), expected);
    EXPECT_EQ(error_of(R"({"threads": 65})"), expected);
    EXPECT_EQ(error_of(R"({"threads": "2"})"), expected);
    EXPECT_EQ(error_of(R"({"threads": 1.5})"), expected);
}

TEST(HttpConfigTest, RefusesBadHost) {
    const Status expected = Status::invalid_argument("/host must be a non-empty string");
    EXPECT_EQ(error_of(R"({"host": 127})"), expected);
    EXPECT_EQ(error_of(R"({"host": ""})"), expected);
    EXPECT_EQ(error_of(R"({"host": ["127.0.0.1"]})"), expected);
}

TEST(HttpConfigTest, NonLoopbackBindRequiresTheToken) {
    for (const char* host : {"0.0.0.0", "192.168.1.20", "::"}) {
        auto config = parse_http_config(obj(R"({"host": ")" + std::string(host) + R"("})"));
        ASSERT_TRUE(config.has_value()) << host;
        EXPECT_TRUE(config->token_required()) << host;
    }
    EXPECT_FALSE(parse_http_config({}).value().token_required());
    EXPECT_TRUE(parse_http_config(obj(R"({"remote_mode": true})")).value().token_required());
    EXPECT_TRUE(parse_http_config(obj(R"({"require_token": true})")).value().token_required());
    EXPECT_EQ(
        error_of(R"({"host": "example.com"})"),
        Status::invalid_argument("/host must be an IP address or 'localhost', got 'example.com'"));
    EXPECT_EQ(error_of(R"({"host": "1.2.3"})"),
              Status::invalid_argument("/host must be an IP address or 'localhost', got '1.2.3'"));
}

TEST(HttpConfigTest, ReadsSecuritySettings) {
    auto config = parse_http_config(obj(
        R"({"token": "0123456789abcdef", "remote_mode": false, "require_token": true,
            "allowed_origins": ["HTTP://Desk.App:8080/", "https://[::1]"],
            "max_connections": 2048, "max_connections_per_peer": 8})"));
    ASSERT_TRUE(config.has_value()) << config.error().message();
    EXPECT_EQ(config->token, "0123456789abcdef");
    EXPECT_TRUE(config->require_token);
    EXPECT_THAT(config->allowed_origins, ElementsAre("http://desk.app:8080", "https://[::1]"));
    EXPECT_EQ(config->max_connections, 2048U);
    EXPECT_EQ(config->max_connections_per_peer, 8U);
    EXPECT_TRUE(config->ignored_keys.empty());
}

TEST(HttpConfigTest, RefusesBadSecuritySettings) {
    EXPECT_EQ(error_of(R"({"token": "short"})"),
              Status::invalid_argument(
                  "/token must be a string of 16 to 512 printable ASCII characters"));
    EXPECT_EQ(error_of(R"({"token": "has a space in it ok"})"),
              Status::invalid_argument(
                  "/token must be a string of 16 to 512 printable ASCII characters"));
    EXPECT_EQ(error_of(R"({"remote_mode": "yes"})"),
              Status::invalid_argument("/remote_mode must be a boolean"));
    EXPECT_EQ(error_of(R"({"allowed_origins": ["*"]})"),
              Status::invalid_argument("/allowed_origins/0 must be an origin like "
                                       "'http://host:port' (never '*'), got '*'"));
    EXPECT_EQ(error_of(R"({"allowed_origins": ["http://a/b"]})"),
              Status::invalid_argument("/allowed_origins/0 must be an origin like "
                                       "'http://host:port' (never '*'), got 'http://a/b'"));
    EXPECT_EQ(error_of(R"({"allowed_origins": "http://a"})"),
              Status::invalid_argument("/allowed_origins must be an array of strings"));
    EXPECT_EQ(
        error_of(R"({"max_connections": 100})"),
        Status::invalid_argument("/max_connections must be an integer between 1024 and 1000000"));
    EXPECT_EQ(error_of(R"({"max_connections_per_peer": 0})"),
              Status::invalid_argument(
                  "/max_connections_per_peer must be an integer between 1 and 1000000"));
}

TEST(HttpConfigTest, RefusesBadAllowedHosts) {
    EXPECT_EQ(error_of(R"({"allowed_hosts": "a.lan"})"),
              Status::invalid_argument("/allowed_hosts must be an array of strings"));
    EXPECT_EQ(error_of(R"({"allowed_hosts": ["a.lan", 3]})"),
              Status::invalid_argument("/allowed_hosts/1 must be a string"));
    EXPECT_EQ(error_of(R"({"allowed_hosts": ["a.lan:8080"]})"),
              Status::invalid_argument(
                  "/allowed_hosts/0 must be a host name without a port, got 'a.lan:8080'"));
    EXPECT_EQ(
        error_of(R"({"allowed_hosts": [""]})"),
        Status::invalid_argument("/allowed_hosts/0 must be a host name without a port, got ''"));
    EXPECT_EQ(error_of(R"({"allowed_hosts": ["ok", "0.0.0.0"]})"),
              Status::invalid_argument("/allowed_hosts/1 must not be 0.0.0.0"));
}

TEST(HttpConfigTest, LoopbackAndUrlHost) {
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("LOCALHOST.example"));
    EXPECT_EQ(url_host("127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(url_host("::1"), "[::1]");
    EXPECT_EQ(url_host("localhost"), "localhost");
}

}  // namespace
}  // namespace runicorn::http_plugin
