namespace GpuTransformer.Tokenizer;

/// <summary>
/// The tokenizer of a sequence-to-sequence model: text to the encoder's input ids (and target text to labels), and
/// generated ids back to text, exactly as the model's Hugging Face slow tokenizer does it.
/// </summary>
/// <remarks>Implementations are immutable: <see cref="WithLanguages"/> returns a new tokenizer, so one instance can
/// serve several threads.</remarks>
public interface ISeq2SeqTokenizer
{
    /// <summary>The Hugging Face tokenizer class this one reproduces (e.g. <c>BartTokenizer</c>).</summary>
    string TokenizerClass { get; }

    /// <summary>Id of the padding token.</summary>
    int PadId { get; }

    /// <summary>Id of the end-of-sequence token.</summary>
    int EosId { get; }

    /// <summary>Id of the unknown token.</summary>
    int UnkId { get; }

    /// <summary>Number of ids the tokenizer can produce (Hugging Face's <c>len(tokenizer)</c>).</summary>
    int Count { get; }

    /// <summary>The longest input in ids the tokenizer config allows (<see cref="int.MaxValue"/> when unlimited).</summary>
    int ModelMaxLength { get; }

    /// <summary>Language codes the tokenizer accepts for <see cref="WithLanguages"/>; empty for monolingual models.</summary>
    IReadOnlyList<string> LanguageCodes { get; }

    /// <summary>The source language code in use, or null when the model has none.</summary>
    string? SourceLanguage { get; }

    /// <summary>The target language code in use, or null when the model has none or none was chosen.</summary>
    string? TargetLanguage { get; }

    /// <summary>
    /// A tokenizer with other source/target languages; null keeps the current one.
    /// </summary>
    /// <param name="sourceLanguage">Source language code (e.g. <c>en_XX</c>, <c>eng_Latn</c>, <c>en</c>).</param>
    /// <param name="targetLanguage">Target language code.</param>
    /// <returns>The tokenizer for those languages.</returns>
    /// <exception cref="ArgumentException">A code is not one of <see cref="LanguageCodes"/> (the message lists them),
    /// or the model is monolingual and a language was given.</exception>
    ISeq2SeqTokenizer WithLanguages(string? sourceLanguage, string? targetLanguage);

    /// <summary>The id of a language code's token (what <c>forced_bos_token_id</c> is set to for a target).</summary>
    /// <param name="language">A code from <see cref="LanguageCodes"/>.</param>
    /// <returns>Its id.</returns>
    /// <exception cref="ArgumentException">The code is unknown; the message lists the valid ones.</exception>
    int GetLanguageId(string language);

    /// <summary>The tokens of a text, as <c>tokenizer.tokenize(text)</c> (no special tokens added).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    IReadOnlyList<string> Tokenize(string text);

    /// <summary>The encoder input ids of a text, as <c>tokenizer(text).input_ids</c> (no truncation).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    int[] EncodeSource(string text);

    /// <summary>
    /// The encoder input ids of a text, as <c>tokenizer(text, truncation=True, max_length=maxLength).input_ids</c>:
    /// special tokens (and the source language code) are kept when truncating.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="maxLength">The most ids to return; <see cref="int.MaxValue"/> for no limit.</param>
    /// <param name="truncated">Whether tokens were dropped.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    int[] EncodeSource(string text, int maxLength, out bool truncated);

    /// <summary>The label ids of a target text, as <c>tokenizer(text_target=text).input_ids</c>.</summary>
    /// <param name="text">The target text.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    int[] EncodeTarget(string text);

    /// <summary>
    /// The label ids of a target text, as <c>tokenizer(text_target=text, truncation=True, max_length=maxLength)</c>:
    /// special tokens (and the target language code) are kept when truncating.
    /// </summary>
    /// <param name="text">The target text.</param>
    /// <param name="maxLength">The most ids to return; <see cref="int.MaxValue"/> for no limit.</param>
    /// <param name="truncated">Whether tokens were dropped.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> contains an unpaired surrogate.</exception>
    int[] EncodeTarget(string text, int maxLength, out bool truncated);

    /// <summary>Encodes source texts into a right-padded batch with an attention mask.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="maxLength">The most ids per row; <see cref="int.MaxValue"/> for no limit.</param>
    /// <returns>The padded batch.</returns>
    /// <exception cref="ArgumentException">A text contains an unpaired surrogate (the message names which).</exception>
    EncodedBatch EncodeSourceBatch(IReadOnlyList<string> texts, int maxLength);

    /// <summary>Turns ids into text as Hugging Face's <c>decode</c>.</summary>
    /// <param name="ids">The ids (e.g. a generated sequence).</param>
    /// <param name="skipSpecialTokens">Drop special tokens (padding, end of sequence, language codes, ...).</param>
    /// <returns>The text.</returns>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true);
}
