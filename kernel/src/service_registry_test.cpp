#include "service_registry.hpp"

#include <gtest/gtest.h>

namespace runicorn::kernel {
namespace {

TEST(ServiceRegistryTest, AddFindAndRemoveByProvider) {
    ServiceRegistry r;
    auto a = std::make_shared<int>(1);
    ASSERT_TRUE(r.add("runicorn.a/1", "pa", a).is_ok());
    ASSERT_TRUE(r.add("runicorn.a/2", "pb", std::make_shared<int>(2)).is_ok());
    EXPECT_EQ(r.find("runicorn.a/1"), a);
    EXPECT_EQ(r.provider_of("runicorn.a/2"), "pb");
    r.remove_provider("pa");
    EXPECT_EQ(r.find("runicorn.a/1"), nullptr);
    EXPECT_NE(r.find("runicorn.a/2"), nullptr);
    r.clear();
    EXPECT_EQ(r.find("runicorn.a/2"), nullptr);
}

TEST(ServiceRegistryTest, DoubleRegistrationIsAnError) {
    ServiceRegistry r;
    ASSERT_TRUE(r.add("runicorn.a/1", "first", std::make_shared<int>(1)).is_ok());
    EXPECT_EQ(
        r.add("runicorn.a/1", "second", std::make_shared<int>(2)),
        Status::already_exists("service 'runicorn.a/1' is already registered by plugin 'first'"));
}

TEST(ServiceRegistryTest, MalformedIdOrNullIsRejected) {
    ServiceRegistry r;
    EXPECT_EQ(
        r.add("run_store", "p", std::make_shared<int>(1)),
        Status::invalid_argument("'run_store' is not a service id like 'runicorn.run_store/1'"));
    EXPECT_EQ(r.add("runicorn.a/1", "p", nullptr),
              Status::invalid_argument("service 'runicorn.a/1' is null"));
}

}  // namespace
}  // namespace runicorn::kernel
