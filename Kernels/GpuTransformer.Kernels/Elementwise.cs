using System.Numerics.Tensors;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>Element-wise updates of one view by another: residual adds, the gate of a gated feed-forward block, scaling.</summary>
public static class Elementwise
{
    /// <summary><c>target[i] += source[i]</c> for the first <paramref name="count"/> elements.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="source">Added values.</param>
    /// <param name="target">Updated in place.</param>
    /// <param name="count">Elements.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void Add(Accelerator accelerator, ArrayView<float> source, ArrayView<float> target, int count) =>
        Apply(accelerator, source, target, count, ElementwiseOperation.Add, 1f, "Elementwise.Add");

    /// <summary><c>target[i] *= source[i]</c> for the first <paramref name="count"/> elements.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="source">Factors.</param>
    /// <param name="target">Updated in place.</param>
    /// <param name="count">Elements.</param>
    /// <exception cref="ArgumentException">A view is too short or on another accelerator.</exception>
    public static void Multiply(Accelerator accelerator, ArrayView<float> source, ArrayView<float> target, int count) =>
        Apply(accelerator, source, target, count, ElementwiseOperation.Multiply, 1f, "Elementwise.Multiply");

    /// <summary><c>target[i] *= factor</c> for the first <paramref name="count"/> elements.</summary>
    /// <param name="accelerator">Where the operand lives.</param>
    /// <param name="target">Updated in place.</param>
    /// <param name="factor">The factor.</param>
    /// <param name="count">Elements.</param>
    /// <exception cref="ArgumentException">The view is too short or on another accelerator.</exception>
    public static void Scale(Accelerator accelerator, ArrayView<float> target, float factor, int count) =>
        Apply(accelerator, default, target, count, ElementwiseOperation.Scale, factor, "Elementwise.Scale");

    private static void Apply(Accelerator accelerator, ArrayView<float> source, ArrayView<float> target, int count, ElementwiseOperation operation, float factor, string op)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        OpChecks.NonNegative(count, op, nameof(count));
        if (operation != ElementwiseOperation.Scale)
        {
            OpChecks.View(accelerator, source, count, op, nameof(source));
        }

        OpChecks.View(accelerator, target, count, op, nameof(target));
        if (count == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                var t = target.AsSpan()[..count];
                switch (operation)
                {
                    case ElementwiseOperation.Add:
                        TensorPrimitives.Add(t, source.AsSpan()[..count], t);
                        break;
                    case ElementwiseOperation.Multiply:
                        TensorPrimitives.Multiply(t, source.AsSpan()[..count], t);
                        break;
                    default:
                        TensorPrimitives.Multiply(t, factor, t);
                        break;
                }

                break;
            default:
                Device.ElementwiseKernels.Apply(accelerator, source, target, count, operation, factor);
                break;
        }
    }
}
