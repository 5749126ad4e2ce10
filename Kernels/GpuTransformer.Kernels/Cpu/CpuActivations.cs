using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// Activation functions with the formulas PyTorch uses, shared by the CPU ops: per value, and over a span, where ReLU
/// and Swish run on vectors (Swish through <see cref="CpuRowReductions.Exp(Vector256{float})"/>, within a few ulp of
/// <see cref="MathF.Exp(float)"/>) and the GELUs stay scalar.
/// </summary>
public static class CpuActivations
{
    private const float SqrtTwoOverPi = 0.7978845608028654f;

    /// <summary>Applies <paramref name="activation"/> to one value.</summary>
    /// <param name="activation">The activation.</param>
    /// <param name="x">The input.</param>
    /// <returns>The activated value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation activation, float x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => x > 0f ? x : 0f,
        Activation.Gelu => (float)(0.5 * x * (1.0 + Erf(x * 0.7071067811865476))),
        Activation.GeluNew => 0.5f * x * (1f + MathF.Tanh(SqrtTwoOverPi * (x + 0.044715f * x * x * x))),
        Activation.Swish => x / (1f + MathF.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>Applies <paramref name="activation"/> in place.</summary>
    /// <param name="activation">The activation.</param>
    /// <param name="values">The values to transform.</param>
    public static void Apply(Activation activation, Span<float> values)
    {
        if (activation == Activation.None)
        {
            return;
        }

        // Each GEMM's epilogue runs this over its output (the FFN's first linear layer: 2048 values a row), where the
        // scalar MathF.Exp of Swish cost as much as a tenth of a marian-base decoding step on the AMD EPYC host.
        int i = 0;
        if (activation is Activation.Swish or Activation.Relu && Vector256.IsHardwareAccelerated)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var result = activation == Activation.Swish
                    ? v / (Vector256<float>.One + CpuRowReductions.Exp(-v))
                    : Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero);
                result.StoreUnsafe(ref start, (nuint)i);
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] = Apply(activation, values[i]);
        }
    }

    /// <summary>The error function, accurate to about 1e-15 in double precision (exact GELU needs more than a float polynomial).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>erf(x).</returns>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (ax < 2.5)
        {
            // Maclaurin series: converges fast here and loses at most ~3 of double's 16 digits.
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            result = sum * 1.1283791670955126;
        }
        else
        {
            // Continued fraction for erfc, evaluated bottom-up; 60 levels are plenty for |x| >= 2.5.
            double f = 0;
            for (int n = 60; n >= 1; n--)
            {
                f = n / 2.0 / (ax + f);
            }

            result = 1.0 - Math.Exp(-ax * ax) / (ax + f) * 0.5641895835477563;
        }

        return x < 0 ? -result : result;
    }
}
