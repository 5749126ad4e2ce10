using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime;

/// <summary>
/// A typed allocation on an accelerator. Dispose it to release the memory deterministically; views made from it
/// must not be used afterwards.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed unsafe class MemoryBuffer<T> : IDisposable
    where T : unmanaged
{
    internal MemoryBuffer(DeviceMemory memory, int length)
    {
        Memory = memory;
        Length = length;
    }

    /// <summary>The accelerator the memory lives on.</summary>
    public Accelerator Accelerator => Memory.Accelerator;

    /// <summary>Elements.</summary>
    public int Length { get; }

    /// <summary>The backend's allocation.</summary>
    public DeviceMemory Memory { get; }

    /// <summary>A view of every element.</summary>
    public ArrayView<T> View
    {
        get
        {
            Memory.ThrowIfDisposed();
            return new ArrayView<T>(Memory, (T*)Memory.HostPointer, 0, Length);
        }
    }

    /// <summary>Writes <paramref name="source"/> at element <paramref name="offset"/>.</summary>
    /// <param name="source">Elements to upload.</param>
    /// <param name="offset">First element written.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range does not fit the buffer.</exception>
    public void CopyFrom(ReadOnlySpan<T> source, int offset = 0)
    {
        CheckRange(offset, source.Length);
        Memory.ThrowIfDisposed();
        Memory.Write(MemoryMarshal.AsBytes(source), (long)offset * sizeof(T));
    }

    /// <summary>Reads elements from <paramref name="offset"/> into <paramref name="destination"/>, after all queued work.</summary>
    /// <param name="destination">Receives the elements.</param>
    /// <param name="offset">First element read.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range does not fit the buffer.</exception>
    public void CopyTo(Span<T> destination, int offset = 0)
    {
        CheckRange(offset, destination.Length);
        Memory.ThrowIfDisposed();
        Memory.Read(MemoryMarshal.AsBytes(destination), (long)offset * sizeof(T));
    }

    /// <summary>Reads the whole buffer into a new array (tests and diagnostics).</summary>
    /// <returns>The elements.</returns>
    public T[] ToArray()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => Memory.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"MemoryBuffer<{typeof(T).Name}>[{Length}] on {Accelerator.Name}";

    private void CheckRange(int offset, int count)
    {
        if (offset < 0 || count > Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"elements [{offset}, {offset + count}) are outside a buffer of {Length}");
        }
    }
}
