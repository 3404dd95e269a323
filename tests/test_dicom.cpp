#include <gtest/gtest.h>

#include "io/dicom.h"

TEST(Dicom, Placeholder) { SUCCEED(); }
