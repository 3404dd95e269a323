// Allowed: the study includes core.
#pragma once
#include "core/error.h"
