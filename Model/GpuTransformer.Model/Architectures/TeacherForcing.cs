using GpuTransformer.Model.Configuration;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The decoder inputs HF feeds when a model is given <c>labels</c> (<c>prepare_decoder_input_ids_from_labels</c>, or
/// the family's <c>shift_tokens_right</c> in <c>forward</c>): the labels shifted right by one behind a first token.
/// </summary>
internal static class TeacherForcing
{
    /// <summary>Decoder input ids for one label sequence.</summary>
    /// <exception cref="ArgumentException">The labels are empty or (mBART) all padding.</exception>
    /// <exception cref="ModelFormatException">The config lacks the id the family starts from.</exception>
    public static int[] DecoderInputs(ModelConfig config, ArchitectureSpec spec, ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
        {
            throw new ArgumentException("there are no labels to shift", nameof(labels));
        }

        var inputs = new int[labels.Length];
        labels[..^1].CopyTo(inputs.AsSpan(1));
        inputs[0] = spec.WrapsLastLabel ? LastLabel(config, labels) : config.DecoderStartTokenId
            ?? throw new ModelFormatException(config.SourceFile, "decoder_start_token_id", "teacher forcing needs it and it is missing.");
        return inputs;
    }

    /// <summary>
    /// mBART takes the label at index (number of non-padding labels − 1), which is the last non-padding label only when
    /// padding is at the end; HF does exactly this count, so a padding id inside the labels moves the pick.
    /// </summary>
    private static int LastLabel(ModelConfig config, ReadOnlySpan<int> labels)
    {
        int pad = config.PadTokenId ?? throw new ModelFormatException(config.SourceFile, "pad_token_id", "mBART's label shift needs it and it is missing.");
        int count = 0;
        foreach (int label in labels)
        {
            count += label != pad ? 1 : 0;
        }

        return count > 0 ? labels[count - 1] : throw new ArgumentException("the labels are all padding", nameof(labels));
    }
}
