// salus_client: the handle of one connection to the daemon.
#pragma once

#include "connection.h"

#include <memory>

struct salus_client {
    std::shared_ptr<salus::client::Connection> conn;
};
