namespace GpuTransformer.Model;

/// <summary>How a <see cref="Translator"/> is created.</summary>
public sealed class TranslatorOptions
{
    /// <summary>
    /// The device: <c>cpu</c>, <c>emulator</c>, <c>opencl[:N]</c>, <c>cuda[:N]</c>, or <c>auto</c> (the first CUDA
    /// GPU, else the first OpenCL GPU, else cpu). Default <c>auto</c>.
    /// </summary>
    public string Device { get; init; } = "auto";

    /// <summary>CPU threads for the ops; null uses every core.</summary>
    public int? Threads { get; init; }

    /// <summary>Most sentences encoded and decoded together. Default 32.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Receives warnings such as input truncation; null sends them to <see cref="System.Diagnostics.Trace"/>.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>
    /// When set, every kernel launch records its time here (device time from events on OpenCL and CUDA, wall time on
    /// the emulator). Launches then wait for their event, so leave it null outside profiling.
    /// </summary>
    public GpuTransformer.Runtime.KernelProfiler? Profiler { get; init; }

    /// <summary>
    /// Source language code for multilingual models (mBART <c>en_XX</c>, NLLB <c>eng_Latn</c>, M2M100 <c>en</c>);
    /// null uses the tokenizer config's <c>src_lang</c>, else Hugging Face's default. Monolingual models take none.
    /// </summary>
    public string? SourceLanguage { get; init; }

    /// <summary>
    /// Target language code for multilingual models (mBART <c>de_DE</c>, NLLB <c>deu_Latn</c>, M2M100 <c>de</c>); null
    /// uses the tokenizer config's <c>tgt_lang</c>. Required when neither it nor the model's
    /// <c>forced_bos_token_id</c> says which language to produce.
    /// </summary>
    public string? TargetLanguage { get; init; }

    /// <summary>
    /// The arithmetic of the linear layers: <see cref="Kernels.ComputeType.Float32"/> (default) or
    /// <see cref="Kernels.ComputeType.Int8"/> (per-row int8 weights and activations, <c>cpu</c> only, with AVX2 + FMA:
    /// AVX-VNNI's <c>vpdpbusd</c> where the processor has it, AVX2's <c>vpmaddwd</c> otherwise; elsewhere creating the
    /// translator throws <see cref="NotSupportedException"/>).
    /// </summary>
    public GpuTransformer.Kernels.ComputeType ComputeType { get; init; } = GpuTransformer.Kernels.ComputeType.Float32;

    /// <summary>
    /// Under <see cref="Kernels.ComputeType.Int8"/>, whether the output projection is quantized too (a tied one keeps
    /// its float rows for the embedding lookup beside the int8 copy). Default false: the output projection stays float.
    /// </summary>
    public bool Int8OutputProjection { get; init; }
}
