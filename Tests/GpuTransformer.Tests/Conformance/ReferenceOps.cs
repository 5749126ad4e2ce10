using GpuTransformer.Kernels;
using GpuTransformer.Runtime;

namespace GpuTransformer.Tests.Conformance;

/// <summary>Plain double-precision loops that define what each op computes; every backend is held against them.</summary>
public static class ReferenceOps
{
    /// <summary>An activation in double.</summary>
    public static double Activate(Activation activation, double x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => Math.Max(x, 0),
        Activation.Gelu => 0.5 * x * (1 + SpecialFunctions.Erf(x / Math.Sqrt(2))),
        Activation.GeluNew => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        Activation.Swish => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>log(Σ exp(v)) over the finite-or-infinite values, -inf when all are -inf.</summary>
    public static double LogSumExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values)
        {
            max = Math.Max(max, v);
        }

        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (double v in values)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}
