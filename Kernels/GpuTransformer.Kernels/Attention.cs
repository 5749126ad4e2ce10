using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// Scaled dot-product attention <c>softmax(scale·q·kᵀ + bias + mask)·v</c> for every sequence and head, with a
/// key-padding mask (valid keys per key/value sequence), an optional causal mask and an optional additive bias. The
/// scores are never materialised as a matrix on devices (online softmax); the decode step reads the KV cache in place.
/// </summary>
public static class Attention
{
    /// <summary>Attends every query row of <paramref name="q"/> to the keys and values.</summary>
    /// <param name="accelerator">Where the operands live.</param>
    /// <param name="q">Queries, laid out as <paramref name="layout"/> says.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values, laid out like <paramref name="k"/>.</param>
    /// <param name="output">Output, laid out like <paramref name="q"/>.</param>
    /// <param name="layout">Shapes, strides, masks and scale.</param>
    /// <param name="keyLengths">Valid keys per key/value sequence (right padding), or empty when all are valid.</param>
    /// <param name="bias">Additive bias laid out by the layout's bias strides, or empty.</param>
    /// <exception cref="ArgumentException">The layout is invalid or a view is too short or on another accelerator.</exception>
    public static void Attend(Accelerator accelerator, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output, in AttentionLayout layout, ArrayView<int> keyLengths = default, ArrayView<float> bias = default)
    {
        const string op = "Attention.Attend";
        ArgumentNullException.ThrowIfNull(accelerator);
        if (layout.Batch < 0 || layout.Heads <= 0 || layout.HeadDim <= 0 || layout.QueryLength < 0 || layout.KeyLength < 0 || layout.KeyValueGroup <= 0)
        {
            throw new ArgumentException($"{op}: invalid layout {layout}", nameof(layout));
        }

        OpChecks.View(accelerator, q, layout.QueryElements, op, nameof(q));
        OpChecks.View(accelerator, output, layout.QueryElements, op, nameof(output));
        OpChecks.View(accelerator, k, layout.KeyValueElements, op, nameof(k));
        OpChecks.View(accelerator, v, layout.KeyValueElements, op, nameof(v));
        OpChecks.Optional(accelerator, keyLengths, layout.KeyValueBatches, op, nameof(keyLengths));
        OpChecks.Optional(accelerator, bias, layout.BiasElements, op, nameof(bias));
        if (layout.Batch == 0 || layout.QueryLength == 0)
        {
            return;
        }

        switch (accelerator.Kind)
        {
            case AcceleratorKind.Cpu:
                CpuAttention.Attend(q.AsSpan(), k.AsSpan(), v.AsSpan(), output.AsSpan(), layout, keyLengths.AsSpan(), bias.AsSpan());
                break;
            default:
                Device.AttentionKernels.Attend(accelerator, q, k, v, output, layout, keyLengths, bias);
                break;
        }
    }
}
