using GpuTransformer.Kernels.Cpu;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// <see cref="CpuInt8Quantizer"/> against its stated arithmetic, <c>round_half_even(x · (127 / max|x|))</c>, on every
/// path: the vector loops (16 lanes with AVX-512, 8 with AVX2) and the scalar tail must give the same bytes, ties
/// included, since the int8 GEMM's references rebuild the kernel's inputs with it.
/// </summary>
public sealed class Int8QuantizerTests
{
    /// <summary>Values whose scaled form lies exactly halfway between integers round to the even one on every path.</summary>
    [Fact]
    public void TiesRoundToEvenInVectorLoopsAndTail()
    {
        for (int length = 1; length <= 70; length++)
        {
            // max|x| = 127 makes the factor exactly 1, so x itself is the scaled value: ±(i + 0.5) are ties.
            var x = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = (i % 2 == 0 ? 1 : -1) * ((i % 126) + 0.5f);
            }

            x[length / 2] = 127f;
            var q = new sbyte[length];
            float scale = CpuInt8Quantizer.QuantizeRow(x, q);
            Assert.Equal(1f, scale);
            for (int i = 0; i < length; i++)
            {
                Assert.True((sbyte)MathF.Round(x[i], MidpointRounding.ToEven) == q[i], $"length {length}, [{i}] = {x[i]}: {q[i]}");
            }
        }
    }

    /// <summary>Random rows of every length up to 100 match the scalar formula value for value, and stay in [-127, 127].</summary>
    [Fact]
    public void RandomRowsMatchTheScalarFormula()
    {
        for (int length = 1; length <= 100; length++)
        {
            var x = RandomData.Uniform(700 + length, length, 3f);
            var q = new sbyte[length];
            float scale = CpuInt8Quantizer.QuantizeRow(x, q);
            float max = x.Max(MathF.Abs);
            Assert.Equal(max / 127f, scale);
            float inv = 127f / max;
            for (int i = 0; i < length; i++)
            {
                Assert.Equal((sbyte)(int)MathF.Round(x[i] * inv), q[i]);
                Assert.InRange(q[i], (sbyte)-127, (sbyte)127);
            }
        }
    }

    /// <summary>An all-zero row has scale 0 and all-zero values.</summary>
    [Fact]
    public void ZeroRowHasZeroScale()
    {
        var q = new sbyte[37];
        Array.Fill(q, (sbyte)5);
        Assert.Equal(0f, CpuInt8Quantizer.QuantizeRow(new float[37], q));
        Assert.All(q, v => Assert.Equal(0, v));
    }
}
