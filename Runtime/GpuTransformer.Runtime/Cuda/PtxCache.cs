using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// PTX compiled by NVRTC, kept on disk so that a second run skips compilation (tens of milliseconds per kernel).
/// An entry is named by the SHA-256 of everything that decides its content (source, target architecture, NVRTC
/// version and options) and holds a header with the payload's own SHA-256, so a truncated or damaged file is noticed,
/// ignored and rewritten. Writes go to a temporary file that is renamed into place, so a reader never sees half an
/// entry and two processes compiling the same kernel both succeed. The cache is an optimisation: any I/O failure
/// only means compiling again.
/// </summary>
internal sealed class PtxCache
{
    /// <summary>Environment variable that replaces <c>$XDG_CACHE_HOME/gpu-transformer</c> as the cache root.</summary>
    public const string DirectoryVariable = "GPUTRANSFORMER_CACHE_DIR";

    private static ReadOnlySpan<byte> Magic => "GTPTX1\n"u8;

    private const int HashBytes = 32;

    /// <summary>Creates a cache in <paramref name="directory"/> (created on first write).</summary>
    /// <param name="directory">Where entries live.</param>
    public PtxCache(string directory)
    {
        Directory = directory;
    }

    /// <summary>Where entries live.</summary>
    public string Directory { get; }

    /// <summary>
    /// <c>$GPUTRANSFORMER_CACHE_DIR/ptx</c>, else <c>$XDG_CACHE_HOME/gpu-transformer/ptx</c>, else
    /// <c>~/.cache/gpu-transformer/ptx</c> (on Windows the local application data folder).
    /// </summary>
    /// <returns>The directory.</returns>
    public static string DefaultDirectory()
    {
        string? root = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(root))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string baseDirectory = !string.IsNullOrEmpty(xdg) ? xdg
                : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            root = Path.Combine(baseDirectory, "gpu-transformer");
        }

        return Path.Combine(root, "ptx");
    }

    /// <summary>The entry name for a compilation: hex SHA-256 over each input, length-prefixed so that no two input sets collide by concatenation.</summary>
    /// <param name="source">The CUDA C source.</param>
    /// <param name="architecture">The target, e.g. <c>compute_90</c>.</param>
    /// <param name="compilerVersion">The NVRTC version and anything else that changes the output (options).</param>
    /// <returns>64 lower-case hex digits.</returns>
    public static string Key(string source, string architecture, string compilerVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (string part in new[] { source, architecture, compilerVersion })
        {
            byte[] bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The file an entry lives in.</summary>
    /// <param name="key">From <see cref="Key"/>.</param>
    /// <returns>The path.</returns>
    public string PathOf(string key) => Path.Combine(Directory, key + ".ptx");

    /// <summary>Reads an entry; null when it is absent, unreadable, truncated or damaged.</summary>
    /// <param name="key">From <see cref="Key"/>.</param>
    /// <returns>The PTX bytes as stored (NUL-terminated as NVRTC gave them), or null.</returns>
    public byte[]? TryRead(string key)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(PathOf(key));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        int header = Magic.Length + HashBytes;
        if (file.Length <= header || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return null;
        }

        var payload = file.AsSpan(header);
        Span<byte> actual = stackalloc byte[HashBytes];
        SHA256.HashData(payload, actual);
        return actual.SequenceEqual(file.AsSpan(Magic.Length, HashBytes)) ? payload.ToArray() : null;
    }

    /// <summary>Stores an entry atomically (temporary file, then rename); failures are ignored.</summary>
    /// <param name="key">From <see cref="Key"/>.</param>
    /// <param name="ptx">The PTX bytes.</param>
    /// <returns>Whether the entry was written.</returns>
    public bool TryWrite(string key, ReadOnlySpan<byte> ptx)
    {
        string target = PathOf(key);
        string temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> hash = stackalloc byte[HashBytes];
                SHA256.HashData(ptx, hash);
                stream.Write(Magic);
                stream.Write(hash);
                stream.Write(ptx);
            }

            File.Move(temporary, target, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is harmless: its name never matches an entry.
        }
    }
}
