using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Vectorised reductions over one row (Vector512 where accelerated, else Vector256, with scalar tails): the max, the
/// sum of <c>exp(x - max)</c> accumulated in double as the scalar code did, the same exps written in place with their
/// float sum (attention's softmax), the sum of squares about a center in double (LayerNorm, RMSNorm), and <c>exp</c>
/// itself as a Cephes-style polynomial within about 2 ulp of <see cref="MathF.Exp"/>. Rows whose max is not finite (all banned,
/// or NaN) take the scalar path so that their -inf and NaN results stay exactly what they were.
/// </summary>
internal static class CpuRowReductions
{
    // exp(x) = 2^n · exp(r), n = round(x · log2 e), r = x - n · ln 2 with ln 2 split in two for an exact product.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    // Below this, expf underflows to a denormal or zero; the result is taken as 0 (MathF.Exp gives at most 1.2e-38 there).
    private const float ExpLow = -87.33654f;
    private const float ExpHigh = 88.72283f;

    /// <summary>The largest value (NaN if any is NaN, as <see cref="MathF.Max(float, float)"/> folds it).</summary>
    /// <param name="row">The values; not empty.</param>
    /// <returns>The max.</returns>
    public static float Max(ReadOnlySpan<float> row)
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            var m0 = Vector512.Create(float.NegativeInfinity);
            var m1 = m0;
            var m2 = m0;
            var m3 = m0;
            for (; i <= n - 64; i += 64)
            {
                m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref p, (nuint)i));
                m1 = Vector512.Max(m1, Vector512.LoadUnsafe(ref p, (nuint)(i + 16)));
                m2 = Vector512.Max(m2, Vector512.LoadUnsafe(ref p, (nuint)(i + 32)));
                m3 = Vector512.Max(m3, Vector512.LoadUnsafe(ref p, (nuint)(i + 48)));
            }

            var m = Vector512.Max(Vector512.Max(m0, m1), Vector512.Max(m2, m3));
            for (int l = 0; l < Vector512<float>.Count; l++)
            {
                max = MathF.Max(max, m[l]);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            var m0 = Vector256.Create(float.NegativeInfinity);
            var m1 = m0;
            for (; i <= n - 16; i += 16)
            {
                m0 = Vector256.Max(m0, Vector256.LoadUnsafe(ref p, (nuint)i));
                m1 = Vector256.Max(m1, Vector256.LoadUnsafe(ref p, (nuint)(i + 8)));
            }

            var m = Vector256.Max(m0, m1);
            for (int l = 0; l < Vector256<float>.Count; l++)
            {
                max = MathF.Max(max, m[l]);
            }
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, Unsafe.Add(ref p, i));
        }

        return max;
    }

    /// <summary>Σ exp(row[i] - max), summed in double; <paramref name="max"/> must be finite.</summary>
    /// <param name="row">The values.</param>
    /// <param name="max">Subtracted before exponentiating (the row's max, so no term exceeds 1).</param>
    /// <returns>The sum.</returns>
    public static double SumExp(ReadOnlySpan<float> row, float max)
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var shift = Vector512.Create(max);
            var s0 = Vector512<double>.Zero;
            var s1 = Vector512<double>.Zero;
            var s2 = Vector512<double>.Zero;
            var s3 = Vector512<double>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var e0 = Exp(Vector512.LoadUnsafe(ref p, (nuint)i) - shift);
                var e1 = Exp(Vector512.LoadUnsafe(ref p, (nuint)(i + 16)) - shift);
                var (l0, h0) = Vector512.Widen(e0);
                var (l1, h1) = Vector512.Widen(e1);
                s0 += l0;
                s1 += h0;
                s2 += l1;
                s3 += h1;
            }

            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var shift = Vector256.Create(max);
            var s0 = Vector256<double>.Zero;
            var s1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var (l, h) = Vector256.Widen(Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - shift));
                s0 += l;
                s1 += h;
            }

            sum = Vector256.Sum(s0 + s1);
        }

        for (; i < n; i++)
        {
            sum += MathF.Exp(Unsafe.Add(ref p, i) - max);
        }

        return sum;
    }

    /// <summary>
    /// Σ (row[i] - center)², the floats widened into double lanes (Vector512, else Vector256, scalar tail): the
    /// variance sum of LayerNorm (center = the mean) and the mean square of RMSNorm (center = 0), both summed in double.
    /// </summary>
    /// <param name="row">The values.</param>
    /// <param name="center">Subtracted from each value, in double.</param>
    /// <returns>The sum.</returns>
    public static double SumOfSquares(ReadOnlySpan<float> row, double center)
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        double sq = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var c = Vector512.Create(center);
            Vector512<double> q0 = default, q1 = default;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
                var d0 = lo - c;
                var d1 = hi - c;
                q0 = Vector512.FusedMultiplyAdd(d0, d0, q0);
                q1 = Vector512.FusedMultiplyAdd(d1, d1, q1);
            }

            sq = Vector512.Sum(q0 + q1);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var c = Vector256.Create(center);
            Vector256<double> q0 = default, q1 = default;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
                var d0 = lo - c;
                var d1 = hi - c;
                q0 = Vector256.FusedMultiplyAdd(d0, d0, q0);
                q1 = Vector256.FusedMultiplyAdd(d1, d1, q1);
            }

            sq = Vector256.Sum(q0 + q1);
        }

        for (; i < n; i++)
        {
            double d = Unsafe.Add(ref p, i) - center;
            sq += d * d;
        }

        return sq;
    }

    /// <summary>Replaces each value by <c>exp(value - max)</c> and returns their sum, in float; <paramref name="max"/> must be finite.</summary>
    /// <param name="row">The values, overwritten.</param>
    /// <param name="max">Subtracted before exponentiating (the row's max, so no term exceeds 1).</param>
    /// <returns>The sum of the new values.</returns>
    public static float ExpInPlace(Span<float> row, float max)
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var shift = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = Exp(Vector512.LoadUnsafe(ref p, (nuint)i) - shift);
                e.StoreUnsafe(ref p, (nuint)i);
                acc += e;
            }

            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var shift = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - shift);
                e.StoreUnsafe(ref p, (nuint)i);
                acc += e;
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref p, i) - max);
            Unsafe.Add(ref p, i) = e;
            sum += e;
        }

        return sum;
    }

    /// <summary>exp of each lane: 0 below the float range, +inf above it, NaN for NaN.</summary>
    /// <param name="x">The arguments.</param>
    /// <returns>exp(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLow)), Vector512.Create(ExpHigh));
        var n = Vector512.Round(clamped * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var poly = Vector512.Create(1.9875691500E-4f);
        poly = Vector512.FusedMultiplyAdd(poly, r, Vector512.Create(1.3981999507E-3f));
        poly = Vector512.FusedMultiplyAdd(poly, r, Vector512.Create(8.3334519073E-3f));
        poly = Vector512.FusedMultiplyAdd(poly, r, Vector512.Create(4.1665795894E-2f));
        poly = Vector512.FusedMultiplyAdd(poly, r, Vector512.Create(1.6666665459E-1f));
        poly = Vector512.FusedMultiplyAdd(poly, r, Vector512.Create(5.0000001201E-1f));
        poly = Vector512.FusedMultiplyAdd(poly, r * r, r) + Vector512<float>.One;

        // 2^n through the exponent bits; n is in [-126, 128], and 2^128 (x at the top of the range) is split in two.
        var ni = Vector512.ConvertToInt32(n);
        var half = ni >> 1;
        var scaleA = (half + Vector512.Create(127)) << 23;
        var scaleB = (ni - half + Vector512.Create(127)) << 23;
        var result = poly * scaleA.AsSingle() * scaleB.AsSingle();
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpLow)), Vector512<float>.Zero, result);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ExpHigh)), Vector512.Create(float.PositiveInfinity), result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    /// <summary>The Vector256 form of <see cref="Exp(Vector512{float})"/>.</summary>
    /// <param name="x">The arguments.</param>
    /// <returns>exp(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        var n = Vector256.Round(clamped * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), clamped);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var poly = Vector256.Create(1.9875691500E-4f);
        poly = Vector256.FusedMultiplyAdd(poly, r, Vector256.Create(1.3981999507E-3f));
        poly = Vector256.FusedMultiplyAdd(poly, r, Vector256.Create(8.3334519073E-3f));
        poly = Vector256.FusedMultiplyAdd(poly, r, Vector256.Create(4.1665795894E-2f));
        poly = Vector256.FusedMultiplyAdd(poly, r, Vector256.Create(1.6666665459E-1f));
        poly = Vector256.FusedMultiplyAdd(poly, r, Vector256.Create(5.0000001201E-1f));
        poly = Vector256.FusedMultiplyAdd(poly, r * r, r) + Vector256<float>.One;
        var ni = Vector256.ConvertToInt32(n);
        var half = ni >> 1;
        var scaleA = (half + Vector256.Create(127)) << 23;
        var scaleB = (ni - half + Vector256.Create(127)) << 23;
        var result = poly * scaleA.AsSingle() * scaleB.AsSingle();
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpLow)), Vector256<float>.Zero, result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpHigh)), Vector256.Create(float.PositiveInfinity), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }
}
