package io.joinflow.cli;

import java.math.BigInteger;
import java.util.List;
import java.util.stream.Collectors;

/** Renders protobuf uint64 values, which Java holds in signed longs. */
final class Unsigned {
  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

  private Unsigned() {}

  static BigInteger big(long value) {
    BigInteger b = BigInteger.valueOf(value);
    return value < 0 ? b.add(TWO_TO_64) : b;
  }

  static String text(long value) {
    return Long.toUnsignedString(value);
  }

  /** Comma-separated ids, or "-" when there are none. */
  static String list(List<Long> values) {
    return values.isEmpty() ? "-" : values.stream().map(Unsigned::text).collect(Collectors.joining(","));
  }
}
