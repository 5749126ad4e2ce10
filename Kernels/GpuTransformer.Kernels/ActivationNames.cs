namespace GpuTransformer.Kernels;

/// <summary>Maps Hugging Face <c>activation_function</c> strings to <see cref="Activation"/>.</summary>
public static class ActivationNames
{
    /// <summary>The names accepted by <see cref="TryParse"/>, for error messages.</summary>
    public static IReadOnlyList<string> Supported { get; } = ["relu", "gelu", "gelu_new", "gelu_pytorch_tanh", "swish", "silu"];

    /// <summary>Parses an HF activation name.</summary>
    /// <param name="name">The name as it appears in config.json.</param>
    /// <param name="activation">The activation, when the name is known.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParse(string? name, out Activation activation)
    {
        activation = name switch
        {
            "relu" => Activation.Relu,
            "gelu" => Activation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluNew,
            "swish" or "silu" => Activation.Swish,
            _ => (Activation)(-1),
        };
        return (int)activation >= 0;
    }
}
