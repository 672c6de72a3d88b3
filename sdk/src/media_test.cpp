#include "media.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace runicorn::sdk {
namespace {

ImageInfo sniff(const std::string& bytes) {
    return sniff_image(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

TEST(MediaTest, RecognisesPngWithSize) {
    std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x01\x00\0\0\0\x20", 24);
    const ImageInfo i = sniff(png);
    EXPECT_EQ(i.format, "png");
    EXPECT_EQ(i.width, 256);
    EXPECT_EQ(i.height, 32);
}

TEST(MediaTest, RecognisesJpegWithSizeFromTheFrameHeader) {
    // SOI, APP0 (length 4), SOF0: precision 8, height 0x0010, width 0x0020.
    const std::string jpg("\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xc0\x00\x11\x08\x00\x10\x00\x20",
                          17);
    const ImageInfo i = sniff(jpg);
    EXPECT_EQ(i.format, "jpeg");
    EXPECT_EQ(i.width, 32);
    EXPECT_EQ(i.height, 16);
}

TEST(MediaTest, RecognisesGifWebpAndBmp) {
    const ImageInfo gif = sniff(std::string("GIF89a\x05\x00\x07\x00", 10));
    EXPECT_EQ(gif.format, "gif");
    EXPECT_EQ(gif.width, 5);
    EXPECT_EQ(gif.height, 7);

    std::string webp("RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0\x09\0\0\x04\0\0", 30);
    const ImageInfo w = sniff(webp);
    EXPECT_EQ(w.format, "webp");
    EXPECT_EQ(w.width, 10);
    EXPECT_EQ(w.height, 5);

    std::string bmp(26, '\0');
    bmp[0] = 'B';
    bmp[1] = 'M';
    bmp[18] = 3;
    bmp[22] = static_cast<char>(0xfe);  // height -2: top-down rows
    bmp[23] = bmp[24] = bmp[25] = static_cast<char>(0xff);
    const ImageInfo b = sniff(bmp);
    EXPECT_EQ(b.format, "bmp");
    EXPECT_EQ(b.width, 3);
    EXPECT_EQ(b.height, 2);
}

TEST(MediaTest, UnknownBytesHaveNoFormat) {
    const ImageInfo i = sniff("hello world");
    EXPECT_EQ(i.format, "");
    EXPECT_EQ(i.width, -1);
}

TEST(MediaTest, SanitisesTheKeyPartOfTheFileName) {
    EXPECT_EQ(sanitize_media_key("train/sample 1.x"), "train_sample_1.x");
    EXPECT_EQ(sanitize_media_key(".."), "_");
    EXPECT_EQ(sanitize_media_key(""), "_");
    EXPECT_EQ(sanitize_media_key(std::string(100, 'a')), std::string(64, 'a'));
    EXPECT_EQ(sanitize_media_key("caf\xc3\xa9"), "caf__");
}

TEST(MediaTest, FileNameIsMillisecondsHexAndKey) {
    EXPECT_EQ(media_file_name(1795674136244, 0x3209df, "sample", "png"),
              "1795674136244_3209df_sample.png");
    EXPECT_EQ(media_file_name(1, 0xa, "a/b", "jpeg"), "1_00000a_a_b.jpeg");
}

TEST(MediaTest, NormalisesTheFormatArgument) {
    EXPECT_EQ(normalize_format("PNG"), "png");
    EXPECT_EQ(normalize_format("jpg"), "jpeg");
    EXPECT_EQ(normalize_format("tiff"), "tiff");
    EXPECT_EQ(normalize_format(""), std::nullopt);
    EXPECT_EQ(normalize_format("../x"), std::nullopt);
}

}  // namespace
}  // namespace runicorn::sdk
