#include "data/csv.h"

#include <cstdio>

namespace cervirisk::data {

std::string fixed(double v, int decimals) {
  char b[352];  // the longest double in %.*f with up to 20 decimals
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

}  // namespace cervirisk::data
