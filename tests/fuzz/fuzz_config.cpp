// libFuzzer target: bytes as the text of salusd.conf.
#include "server/config_file.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    salus::server::Options options;
    std::string text(reinterpret_cast<const char *>(data), size);
    salus::server::parse_config_text("fuzz.conf", text, &options);
    return 0;
}
