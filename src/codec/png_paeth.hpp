// PNG's Paeth predictor (specification 9.4), shared by the writer and the reader's scalar path.
#pragma once

#include <cstdlib>

namespace rvae::codec_detail {

/// The one of a (left), b (above) and c (upper left) closest to a + b - c, ties in that order.
/// Branch-free and in int (so the writer's loop vectorises; the selects compile to cmov
/// elsewhere): on photo rows the branches of the textbook form are unpredictable.
inline int paeth_predictor(int a, int b, int c) {
  const int pa = std::abs(b - c);
  const int pb = std::abs(a - c);
  const int pc = std::abs(a + b - 2 * c);
  const int b_or_c = pb <= pc ? b : c;
  return pa <= pb && pa <= pc ? a : b_or_c;
}

}  // namespace rvae::codec_detail
