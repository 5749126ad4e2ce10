using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>Row-wise softmax and log-softmax, numerically stable, as PyTorch computes them.</summary>
public static class Softmax
{
    /// <summary>Writes <c>softmax</c> (or <c>log_softmax</c>) of each row of <paramref name="x"/> to <paramref name="y"/>.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="x">[rows, cols] input.</param>
    /// <param name="y">[rows, cols] output; may be <paramref name="x"/>.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="cols">Row length.</param>
    /// <param name="log">Log-softmax instead of softmax.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void Rows(Accelerator accelerator, ArrayView<float> x, ArrayView<float> y, int rows, int cols, bool log)
    {
        const string op = "Softmax.Rows";
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(rows, op, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        OpChecks.View(accelerator, x, (long)rows * cols, op, nameof(x));
        OpChecks.View(accelerator, y, (long)rows * cols, op, nameof(y));
        if (rows == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                for (int r = 0; r < rows; r++)
                {
                    var input = x.AsSpan().Slice(r * cols, cols);
                    var output = y.AsSpan().Slice(r * cols, cols);
                    if (log)
                    {
                        CpuSoftmax.LogSoftmax(input, output);
                    }
                    else
                    {
                        CpuSoftmax.Softmax(input, output);
                    }
                }

                break;
            default:
                Device.SoftmaxKernels.Rows(accelerator, x, y, rows, cols, log);
                break;
        }
    }
}
