// A planted violation: core includes the study (the layering check must fail on this tree).
#pragma once
#include "study/study.h"
