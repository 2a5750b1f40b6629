// Whether the device is still usable. Some device errors poison the whole
// device context rather than one call (CUDA's sticky errors, e.g. a kernel
// that touched an illegal address): after one, nothing can run on the device
// until the process restarts. Whoever detects such an error reports it here;
// the engine checks after every failed iteration and, once the device is
// lost, fails every waiting request and stops the daemon.
#pragma once

#include <string>

namespace salus {

// The first report wins; later ones are ignored. Any thread.
void report_device_lost(const std::string &why);
// True once reported, with *why (may be null) set to the first report.
bool device_lost(std::string *why);

} // namespace salus
