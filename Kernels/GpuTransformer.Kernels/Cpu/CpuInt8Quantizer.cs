using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Symmetric per-row int8 quantization: <c>scale = max|x| / 127</c>, <c>q = round(x / scale)</c> with ties to even,
/// so <c>q</c> lies in [-127, 127] and <c>x ≈ q · scale</c>. Weights are quantized with it once at load and
/// activations at every <see cref="CpuInt8Gemm"/> call; both go through the same arithmetic (<c>x · (127 / max)</c>
/// rounded by <c>cvtps2dq</c>'s default round-to-nearest-even, which <see cref="MathF.Round(float)"/> matches in the
/// scalar tail), so a reference can reproduce the kernel's inputs exactly, whichever vector width ran.
/// </summary>
public static unsafe class CpuInt8Quantizer
{
    /// <summary>Quantizes one row.</summary>
    /// <param name="x">The values.</param>
    /// <param name="q">Receives <c>x.Length</c> quantized values.</param>
    /// <returns>The scale: <c>x[i] ≈ q[i] · scale</c>; 0 for an all-zero row.</returns>
    /// <exception cref="ArgumentException"><paramref name="q"/> is shorter than <paramref name="x"/>.</exception>
    public static float QuantizeRow(ReadOnlySpan<float> x, Span<sbyte> q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q.Length, x.Length, nameof(q));
        fixed (float* px = x)
        fixed (sbyte* pq = q)
        {
            return QuantizeRow(px, x.Length, (byte*)pq, 0);
        }
    }

    /// <summary>
    /// Quantizes <paramref name="k"/> floats into bytes, each XORed with <paramref name="flip"/>: 0 keeps the signed
    /// value, 0x80 turns it into the unsigned <c>q + 128</c> that <c>vpdpbusd</c>'s first operand takes.
    /// </summary>
    internal static float QuantizeRow(float* x, int k, byte* q, byte flip)
    {
        float max = MaxAbs(x, k);
        if (max == 0f)
        {
            new Span<byte>(q, k).Fill(flip);
            return 0f;
        }

        float inv = 127f / max;
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inv);
            var vflip = Vector128.Create(flip);
            for (; i <= k - 16; i += 16)
            {
                // vpmovdb keeps the low byte, which is the two's-complement int8 as |q| <= 127.
                var ints = Avx512F.ConvertToVector512Int32(Vector512.Load(x + i) * vinv);
                (Avx512F.ConvertToVector128SByte(ints).AsByte() ^ vflip).Store(q + i);
            }
        }

        else if (Avx2.IsSupported)
        {
            var vinv = Vector256.Create(inv);
            var vflip = Vector128.Create(flip);
            for (; i <= k - 16; i += 16)
            {
                // Narrowing keeps the low bits of each lane, in order: exact, as |q| <= 127.
                var lo = Avx.ConvertToVector256Int32(Vector256.Load(x + i) * vinv);
                var hi = Avx.ConvertToVector256Int32(Vector256.Load(x + i + 8) * vinv);
                var shorts = Vector256.Narrow(lo, hi);
                (Vector128.Narrow(shorts.GetLower(), shorts.GetUpper()).AsByte() ^ vflip).Store(q + i);
            }
        }

        for (; i < k; i++)
        {
            q[i] = (byte)((sbyte)(int)MathF.Round(x[i] * inv) ^ flip);
        }

        return max / 127f;
    }

    /// <summary>
    /// Quantizes <paramref name="k"/> floats exactly as <see cref="QuantizeRow(ReadOnlySpan{float}, Span{sbyte})"/>
    /// does, into int16: the operands of the AVX2 kernel's <c>vpmaddwd</c>.
    /// </summary>
    internal static float QuantizeRow(float* x, int k, short* q)
    {
        float max = MaxAbs(x, k);
        if (max == 0f)
        {
            new Span<short>(q, k).Clear();
            return 0f;
        }

        float inv = 127f / max;
        int i = 0;
        if (Avx2.IsSupported)
        {
            var vinv = Vector256.Create(inv);
            for (; i <= k - 16; i += 16)
            {
                var lo = Avx.ConvertToVector256Int32(Vector256.Load(x + i) * vinv);
                var hi = Avx.ConvertToVector256Int32(Vector256.Load(x + i + 8) * vinv);
                Vector256.Narrow(lo, hi).Store(q + i);
            }
        }

        for (; i < k; i++)
        {
            q[i] = (short)(int)MathF.Round(x[i] * inv);
        }

        return max / 127f;
    }

    private static float MaxAbs(float* x, int k)
    {
        int i = 0;
        float max = 0f;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= k - 16; i += 16)
            {
                acc = Vector512.Max(acc, Vector512.Abs(Vector512.Load(x + i)));
            }

            max = MaxOf(Vector256.Max(acc.GetLower(), acc.GetUpper()));
        }
        else if (Vector256.IsHardwareAccelerated && k >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= k - 8; i += 8)
            {
                acc = Vector256.Max(acc, Vector256.Abs(Vector256.Load(x + i)));
            }

            max = MaxOf(acc);
        }

        for (; i < k; i++)
        {
            max = Math.Max(max, Math.Abs(x[i]));
        }

        return max;
    }

    private static float MaxOf(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return Math.Max(Math.Max(m[0], m[1]), Math.Max(m[2], m[3]));
    }
}
