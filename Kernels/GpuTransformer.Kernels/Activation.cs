namespace GpuTransformer.Kernels;

/// <summary>The element-wise activations that transformer feed-forward blocks use, as Hugging Face names them.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,

    /// <summary><c>max(x, 0)</c>.</summary>
    Relu,

    /// <summary>Exact GELU, <c>x * Φ(x)</c> with the error function (HF <c>gelu</c>).</summary>
    Gelu,

    /// <summary>The tanh approximation of GELU (HF <c>gelu_new</c>, <c>gelu_pytorch_tanh</c>).</summary>
    GeluNew,

    /// <summary><c>x * sigmoid(x)</c> (HF <c>swish</c> / <c>silu</c>).</summary>
    Swish,
}
