// SPDX-License-Identifier: GPL-2.0
#include "hub_error.h"

G_DEFINE_QUARK(hub-error-quark, hub_error)
