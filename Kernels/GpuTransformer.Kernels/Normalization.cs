using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>Row-wise LayerNorm (with a fused residual add) and RMSNorm, as <c>nn.LayerNorm</c> and T5's norm compute them.</summary>
public static class Normalization
{
    /// <summary>For each row: <c>h = x + residual</c> (when given), <c>y = (h - mean) / sqrt(var + eps) * gamma + beta</c>.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="x">Input rows.</param>
    /// <param name="residual">Rows added first, or empty.</param>
    /// <param name="gamma">Scale per column.</param>
    /// <param name="beta">Shift per column.</param>
    /// <param name="y">Output rows; may be <paramref name="x"/> or <paramref name="residual"/>.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Row length.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void LayerNorm(Accelerator accelerator, ArrayView<float> x, ArrayView<float> residual, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int rows, int cols, float epsilon)
    {
        const string op = "Normalization.LayerNorm";
        Check(accelerator, x, gamma, y, rows, cols, op);
        OpChecks.Optional(accelerator, residual, (long)rows * cols, op, nameof(residual));
        OpChecks.View(accelerator, beta, cols, op, nameof(beta));
        if (rows == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                CpuLayerNorm.AddAndNormalize(x.AsSpan(), residual.AsSpan(), gamma.AsSpan(), beta.AsSpan(), y.AsSpan(), rows, cols, epsilon);
                break;
            default:
                Device.NormalizationKernels.LayerNorm(accelerator, x, residual, gamma, beta, y, rows, cols, epsilon);
                break;
        }
    }

    /// <summary>For each row: <c>y = x / sqrt(mean(x²) + eps) * gamma</c> (no mean subtraction, no bias).</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="x">Input rows.</param>
    /// <param name="gamma">Scale per column.</param>
    /// <param name="y">Output rows; may be <paramref name="x"/>.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Row length.</param>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void RmsNorm(Accelerator accelerator, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> y, int rows, int cols, float epsilon)
    {
        const string op = "Normalization.RmsNorm";
        Check(accelerator, x, gamma, y, rows, cols, op);
        if (rows == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                CpuRmsNorm.Normalize(x.AsSpan(), gamma.AsSpan(), y.AsSpan(), rows, cols, epsilon);
                break;
            default:
                Device.NormalizationKernels.RmsNorm(accelerator, x, gamma, y, rows, cols, epsilon);
                break;
        }
    }

    private static void Check(Accelerator accelerator, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> y, int rows, int cols, string op)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(rows, op, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1, nameof(cols));
        OpChecks.View(accelerator, x, (long)rows * cols, op, nameof(x));
        OpChecks.View(accelerator, y, (long)rows * cols, op, nameof(y));
        OpChecks.View(accelerator, gamma, cols, op, nameof(gamma));
    }
}
