using GpuTransformer.Runtime;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// A device buffer with sentinel-filled guard regions before and after the view an op gets, so that a write outside
/// the view (a wrong bound, a tile that runs over the edge) is caught, not just a wrong value inside it.
/// </summary>
public sealed class GuardedBuffer<T> : IDisposable
    where T : unmanaged
{
    /// <summary>Elements on each side of the view.</summary>
    public const int Guard = 67;

    private readonly MemoryBuffer<T> buffer;
    private readonly T sentinel;

    /// <summary>Allocates a view of <paramref name="length"/> elements holding <paramref name="contents"/> (or the sentinel).</summary>
    /// <param name="accelerator">The device.</param>
    /// <param name="length">Elements of the view.</param>
    /// <param name="sentinel">The guard value (and the view's value when no contents are given).</param>
    /// <param name="contents">Initial contents of the view, or empty.</param>
    public GuardedBuffer(Accelerator accelerator, int length, T sentinel, ReadOnlySpan<T> contents = default)
    {
        this.sentinel = sentinel;
        Length = length;
        var host = new T[length + 2 * Guard];
        Array.Fill(host, sentinel);
        contents.CopyTo(host.AsSpan(Guard));
        buffer = accelerator.Upload<T>(host);
    }

    /// <summary>Elements of the view.</summary>
    public int Length { get; }

    /// <summary>The view the op gets.</summary>
    public ArrayView<T> View => buffer.View.SubView(Guard, Length);

    /// <summary>Reads the view back and checks that both guard regions still hold the sentinel.</summary>
    /// <param name="what">The op and operand, for messages.</param>
    /// <returns>The view's contents.</returns>
    public T[] ReadChecked(string what)
    {
        var all = buffer.ToArray();
        for (int i = 0; i < Guard; i++)
        {
            Assert.True(all[i].Equals(sentinel), $"{what}: wrote {Guard - i} elements before its view");
            Assert.True(all[Guard + Length + i].Equals(sentinel), $"{what}: wrote element {Length + i} past the end of its view of {Length}");
        }

        return all.AsSpan(Guard, Length).ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => buffer.Dispose();
}
