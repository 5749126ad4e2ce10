using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels.Device;

/// <summary>The activations of <see cref="Activation"/> for kernels, by the enum's integer value.</summary>
internal static class ActivationFunctions
{
    /// <summary>Applies activation <paramref name="kind"/> (an <see cref="Activation"/> value) to <paramref name="x"/>.</summary>
    [KernelHelper]
    public static float Apply(int kind, float x)
    {
        if (kind == 1)
        {
            return x > 0f ? x : 0f;
        }

        if (kind == 2)
        {
            return 0.5f * x * (1f + XMath.Erf(x * 0.70710678118654752f));
        }

        if (kind == 3)
        {
            return 0.5f * x * (1f + XMath.Tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        }

        if (kind == 4)
        {
            return x / (1f + XMath.Exp(-x));
        }

        return x;
    }
}
