using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// The <c>nn.Linear</c> product <c>Y = act(X · Wᵀ + b)</c> on any accelerator: the CPU's SIMD implementation or the
/// tiled [Kernel] on emulator, OpenCL and CUDA devices.
/// </summary>
public static class Gemm
{
    /// <summary>Computes <paramref name="rows"/> contiguous rows: <c>y = act(x · Wᵀ + b)</c>.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="x">Input, <paramref name="rows"/> × <see cref="LinearWeight.In"/>.</param>
    /// <param name="weight">The weight and bias.</param>
    /// <param name="y">Output, <paramref name="rows"/> × <see cref="LinearWeight.Out"/>.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void Linear(Accelerator accelerator, ArrayView<float> x, LinearWeight weight, ArrayView<float> y, int rows, Activation activation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Linear(accelerator, x, RowLayout.Contiguous(rows, weight.In), weight, y, RowLayout.Contiguous(rows, weight.Out), activation);
    }

    /// <summary>Computes <c>y = act(x · Wᵀ + b)</c> for rows laid out as <paramref name="xLayout"/> and <paramref name="yLayout"/> say.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="x">Input rows of <see cref="LinearWeight.In"/>.</param>
    /// <param name="xLayout">Where the input rows are.</param>
    /// <param name="weight">The weight and bias.</param>
    /// <param name="y">Output rows of <see cref="LinearWeight.Out"/>.</param>
    /// <param name="yLayout">Where the output rows go; same batch and rows as <paramref name="xLayout"/>.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <exception cref="ArgumentException">The layouts disagree, a view is too short, or an operand is on another accelerator.</exception>
    public static void Linear(Accelerator accelerator, ArrayView<float> x, in RowLayout xLayout, LinearWeight weight, ArrayView<float> y, in RowLayout yLayout, Activation activation = Activation.None)
    {
        const string op = "Gemm.Linear";
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Accelerator != accelerator)
        {
            throw new ArgumentException($"{op}: the weight is on {weight.Accelerator.Id}, not {accelerator.Id}", nameof(weight));
        }

        if (xLayout.Batch != yLayout.Batch || xLayout.Rows != yLayout.Rows)
        {
            throw new ArgumentException($"{op}: input layout {xLayout} and output layout {yLayout} differ in rows", nameof(yLayout));
        }

        xLayout.Validate(weight.In, x.Length, nameof(x));
        yLayout.Validate(weight.Out, y.Length, nameof(y));
        OpChecks.View(accelerator, x, xLayout.RequiredLength(weight.In), op, nameof(x));
        OpChecks.View(accelerator, y, yLayout.RequiredLength(weight.Out), op, nameof(y));
        if (xLayout.TotalRows == 0)
        {
            return;
        }

        // One block of many rows is the common case; a block of one row per batch entry is one block with a stride.
        var xl = Flatten(xLayout);
        var yl = Flatten(yLayout);
        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                for (int b = 0; b < xl.Batch; b++)
                {
                    if (weight.Int8 is { } int8)
                    {
                        CpuInt8Gemm.Linear(x.AsSpan()[(int)(b * xl.BatchStride)..], xl.RowStride, int8, y.AsSpan()[(int)(b * yl.BatchStride)..], yl.RowStride, xl.Rows, activation);
                        continue;
                    }

                    if (weight.Packed is { } packed)
                    {
                        CpuPackedGemm.Linear(x.AsSpan()[(int)(b * xl.BatchStride)..], xl.RowStride, packed, y.AsSpan()[(int)(b * yl.BatchStride)..], yl.RowStride, xl.Rows, activation);
                        continue;
                    }

                    CpuGemm.Linear(
                        x.AsSpan()[(int)(b * xl.BatchStride)..],
                        xl.RowStride,
                        weight.Weight.AsSpan(),
                        weight.Bias.AsSpan(),
                        y.AsSpan()[(int)(b * yl.BatchStride)..],
                        yl.RowStride,
                        xl.Rows,
                        weight.Out,
                        weight.In,
                        activation);
                }

                break;
            default:
                Device.GemmKernels.Linear(accelerator, x, xl, weight, y, yl, activation);
                break;
        }
    }

    private static RowLayout Flatten(in RowLayout layout) =>
        layout.Rows == 1 && layout.Batch > 1 && layout.BatchStride <= int.MaxValue
            ? new RowLayout(1, layout.Batch, (int)layout.BatchStride, (long)layout.Batch * layout.BatchStride)
            : layout;
}
