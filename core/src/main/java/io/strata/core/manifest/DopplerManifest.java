package io.strata.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.Role;
import io.strata.core.model.TensorNaming;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a manifest DOPPLER wrote (its RDRR format, which Strata's follows) into Strata's manifest model, as the
 * JSON tree Strata's own reader then maps and validates. Every DOPPLER specific is here and nowhere else:
 * <ul>
 *   <li>{@code architecture} is an object; with {@code moeConfig}, {@code eos_token_id} and the {@code inference}
 *   block it becomes the Hugging Face style {@code config} the decoder reads, and the model family is told from the
 *   expert tensors' names. Whatever the inference block asks for that Strata's decoder does not compute (sliding
 *   windows, GELU, soft-capping, norm offsets, ...) is recorded as {@link Manifest#CONFIG_UNSUPPORTED}.</li>
 *   <li>{@code hashAlgorithm} {@code sha256} stays; DOPPLER's {@code blake3} is not standard BLAKE3 and becomes
 *   {@link Manifest#HASH_DOPPLER_BLAKE3}. Shards have no per-chunk hashes; each carries a global {@code offset},
 *   checked to be the sum of the earlier shards' sizes. {@link #TRANSFER_CHUNK} is the peer transfer unit.</li>
 *   <li>tensors may be {@code spans} only (no top-level shard/offset); experts are per-expert tensors whose
 *   {@code group} {@code layer.L.expert.E} must agree with their names (and becomes Strata's {@code expert.L.E});
 *   there is no {@code groups} map.</li>
 *   <li>{@code Q4_K_M} is ggml's Q4_K. With {@code layout: row} each row is padded to whole 256-element blocks
 *   (stored shape padded, {@code originalShape} the real one); blocks across rows (no layout) are read only where
 *   rows are whole blocks anyway; {@code col} (blocks along the transpose) is refused.</li>
 *   <li>{@code integrityExtensions} (block Merkle roots) and {@code tokenizer} pass through as DOPPLER wrote them.</li>
 * </ul>
 * A field or tensor description not understood is an error naming it, never a guess.
 */
final class DopplerManifest {
    /** Bytes per piece when a DOPPLER model moves between peers (it has no chunks of its own). */
    static final long TRANSFER_CHUNK = 4L << 20;

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Pattern EXPERT_GROUP = Pattern.compile("layer\\.(\\d{1,9})\\.expert\\.(\\d{1,9})");
    private static final Set<String> SHARD_FIELDS = Set.of("index", "filename", "fileName", "size", "hash",
            "blake3", "offset", "hashAlgorithm");
    private static final Set<String> TENSOR_FIELDS = Set.of("shard", "shardIndex", "offset", "size", "shape",
            "dtype", "role", "group", "layout", "spans");
    private static final Set<String> SPAN_FIELDS = Set.of("shardIndex", "shard", "offset", "size");
    private static final Set<String> MOE_FIELDS = Set.of("numExperts", "numExpertsPerToken", "expertFormat",
            "expertIntermediateSize");
    /** Architecture fields that describe things Strata's decoder has not got (linear attention, per-layer inputs). */
    private static final List<String> ARCH_ABSENT = List.of("linearNumKeyHeads", "linearNumValueHeads",
            "linearKeyHeadDim", "linearValueHeadDim", "linearConvKernelDim", "hiddenSizePerLayerInput",
            "vocabSizePerLayerInput", "globalHeadDim", "numKvSharedLayers");
    /** Inference sections whose every field changes what the model computes. */
    private static final List<String> INFERENCE_SECTIONS = List.of("attention", "normalization", "ffn", "rope",
            "output", "layerPattern");
    /** Top-level inference fields that switch on whole other pipelines when set. */
    private static final List<String> INFERENCE_PIPELINES = List.of("rerank", "sequence", "diffusionGemma",
            "pipeline");

    private DopplerManifest() {
    }

    /** Whether {@code root} is a DOPPLER manifest: its {@code architecture} is an object, or it has an inference block. */
    static boolean isDoppler(JsonNode root) {
        return root.path("architecture").isObject() || root.has("inference");
    }

    /** The Strata manifest tree for the DOPPLER manifest {@code d}; {@code source} names the file in errors. */
    static ObjectNode toStrata(ObjectNode d, String source) {
        return new DopplerManifest.Reader(d, source + ": ").read();
    }

    private static final class Reader {
        private final ObjectNode d;
        private final String src;
        private final List<String> unsupported = new ArrayList<>();

        Reader(ObjectNode d, String src) {
            this.d = d;
            this.src = src;
        }

        ObjectNode read() {
            if (d.has("tensorsFile") && !d.path("tensors").isObject()) {
                throw error("tensorsFile", "tensors in a separate file are not supported; inline them in the"
                        + " manifest");
            }
            if (d.hasNonNull("groups")) {
                throw error("groups", "DOPPLER manifests have no groups map; this one is not understood");
            }
            ObjectNode out = JSON.objectNode();
            out.set("version", d.get("version"));
            copyText(out, "modelId");
            copyText(out, "modelType");
            copyText(out, "quantization");
            out.put("hashAlgorithm", hashAlgorithm());
            out.put("chunkSize", TRANSFER_CHUNK);
            ArrayNode shards = shards();
            out.set("shards", shards);
            long total = 0;
            for (JsonNode s : shards) {
                total += s.get("size").asLong();
            }
            if (d.hasNonNull("totalSize") && d.get("totalSize").asLong() != total) {
                throw error("totalSize", d.get("totalSize") + " bytes, but the shards add up to " + total);
            }
            out.put("totalSize", total);
            ObjectNode tensors = tensors();
            out.set("tensors", tensors);
            ObjectNode arch = object("architecture");
            ModelFamily family = family(tensors);
            JsonNode moe = d.get("moeConfig");
            if (moe != null && !moe.isNull()) {
                out.set("moeConfig", moeConfig(moe, tensors, family));
            }
            checkInference(arch, family);
            out.set("config", config(arch, moe, family));
            if (family != null && unsupported.isEmpty()) {
                out.put("architecture", family.hfArchitecture());
            }
            if (d.has("integrityExtensions")) {
                out.set("integrityExtensions", d.get("integrityExtensions"));
            }
            if (d.has("tokenizer")) {
                out.set("tokenizer", d.get("tokenizer"));
            }
            return out;
        }

        private String hashAlgorithm() {
            String h = text(d, "hashAlgorithm", "hashAlgorithm");
            return switch (h) {
                case "sha256" -> Manifest.HASH_SHA256;
                case "blake3" -> Manifest.HASH_DOPPLER_BLAKE3;
                default -> throw error("hashAlgorithm", "'" + h + "' is not one DOPPLER writes (sha256, blake3)");
            };
        }

        private ArrayNode shards() {
            JsonNode list = d.get("shards");
            if (list == null || !list.isArray()) {
                throw error("shards", "missing or not an array");
            }
            ArrayNode out = JSON.arrayNode();
            long offset = 0;
            for (int i = 0; i < list.size(); i++) {
                String f = "shards[" + i + "]";
                JsonNode s = list.get(i);
                if (!s.isObject()) {
                    throw error(f, "not an object");
                }
                unknownFields(s, SHARD_FIELDS, f);
                long size = nonNegative(s, "size", f + ".size");
                String name = s.hasNonNull("filename") ? text(s, "filename", f + ".filename")
                        : text(s, "fileName", f + ".filename");
                String hash = s.hasNonNull("hash") ? text(s, "hash", f + ".hash") : text(s, "blake3", f + ".hash");
                if (s.hasNonNull("hashAlgorithm") && !s.get("hashAlgorithm").asText().equals(
                        d.path("hashAlgorithm").asText())) {
                    throw error(f + ".hashAlgorithm", "'" + s.get("hashAlgorithm").asText() + "' differs from the"
                            + " manifest's '" + d.path("hashAlgorithm").asText() + "'");
                }
                if (s.hasNonNull("offset") && nonNegative(s, "offset", f + ".offset") != offset) {
                    throw error(f + ".offset", s.get("offset") + ", but the earlier shards end at byte " + offset);
                }
                ObjectNode o = out.addObject();
                o.set("index", s.has("index") ? s.get("index") : JSON.numberNode(i));
                o.put("filename", name);
                o.put("size", size);
                o.put("hash", hash);
                offset += size;
            }
            return out;
        }

        private ObjectNode tensors() {
            JsonNode map = d.get("tensors");
            if (map == null || !map.isObject()) {
                throw error("tensors", "missing or not an object");
            }
            ObjectNode out = JSON.objectNode();
            for (Map.Entry<String, JsonNode> e : map.properties()) {
                out.set(e.getKey(), tensor(e.getKey(), e.getValue()));
            }
            return out;
        }

        private ObjectNode tensor(String name, JsonNode t) {
            String f = "tensors['" + name + "']";
            if (!t.isObject()) {
                throw error(f, "not an object");
            }
            unknownFields(t, TENSOR_FIELDS, f);
            ObjectNode o = JSON.objectNode();
            if (t.has("spans")) {
                o.set("spans", spans(t, f));
            } else {
                o.put("shard", nonNegative(t, t.has("shard") ? "shard" : "shardIndex", f + ".shard"));
                o.put("offset", nonNegative(t, "offset", f + ".offset"));
            }
            long size = nonNegative(t, "size", f + ".size");
            o.put("size", size);
            List<Long> shape = shape(t, f);
            String dtypeName = text(t, "dtype", f + ".dtype");
            // DOPPLER's Q4_K_M is an element type, ggml's Q4_K blocks (to llama.cpp it names a file's mix of types)
            DType dtype = dtypeName.equalsIgnoreCase("Q4_K_M") ? DType.Q4_K : DType.parse(dtypeName)
                    .orElseThrow(() -> error(f + ".dtype", "'" + dtypeName + "' is not a type Strata reads"));
            String layout = t.hasNonNull("layout") ? text(t, "layout", f + ".layout") : null;
            List<Long> stored = shape;
            if (dtype == DType.Q4_K) {
                stored = q4kStoredShape(shape, layout, f);
                o.put("layout", "row");
            } else if (dtype.isQuantized()) {
                throw error(f + ".dtype", "'" + dtypeName + "': of DOPPLER's block types only Q4_K_M is read");
            } else if (layout != null && !layout.equals("row")) {
                throw error(f + ".layout", "'" + layout + "' is not understood for " + dtypeName);
            }
            ArrayNode shapeNode = o.putArray("shape");
            stored.forEach(shapeNode::add);
            o.put("dtype", dtype.manifestName());
            if (!stored.equals(shape)) {
                ArrayNode orig = o.putArray("originalShape");
                shape.forEach(orig::add);
            }
            String role = text(t, "role", f + ".role");
            try {
                Role.fromJson(role);
            } catch (IllegalArgumentException ex) {
                throw error(f + ".role", "'" + role + "' is not a role Strata knows");
            }
            o.put("role", role);
            if (t.hasNonNull("group")) {
                String group = text(t, "group", f + ".group");
                // an expert's tensors are labelled with Strata's group name for it (expert.L.E)
                o.put("group", checkExpertGroup(name, group, role, f).map(ExpertId::groupName).orElse(group));
            }
            return o;
        }

        private ArrayNode spans(JsonNode t, String f) {
            JsonNode spans = t.get("spans");
            if (!spans.isArray() || spans.isEmpty()) {
                throw error(f + ".spans", "not a non-empty array");
            }
            ArrayNode out = JSON.arrayNode();
            for (int i = 0; i < spans.size(); i++) {
                String sf = f + ".spans[" + i + "]";
                JsonNode s = spans.get(i);
                if (!s.isObject()) {
                    throw error(sf, "not an object");
                }
                unknownFields(s, SPAN_FIELDS, sf);
                ObjectNode o = out.addObject();
                o.put("shardIndex", nonNegative(s, s.has("shardIndex") ? "shardIndex" : "shard", sf + ".shardIndex"));
                o.put("offset", nonNegative(s, "offset", sf + ".offset"));
                o.put("size", nonNegative(s, "size", sf + ".size"));
            }
            JsonNode first = out.get(0);
            boolean topShard = t.has("shard") || t.has("shardIndex");
            if ((topShard && nonNegative(t, t.has("shard") ? "shard" : "shardIndex", f + ".shard")
                    != first.get("shardIndex").asLong())
                    || (t.has("offset") && nonNegative(t, "offset", f + ".offset") != first.get("offset").asLong())) {
                throw error(f, "top-level shard/offset disagree with spans[0]");
            }
            return out;
        }

        private List<Long> shape(JsonNode t, String f) {
            JsonNode s = t.get("shape");
            if (s == null || !s.isArray()) {
                throw error(f + ".shape", "missing or not an array");
            }
            List<Long> out = new ArrayList<>();
            for (JsonNode n : s) {
                if (!n.isIntegralNumber() || n.asLong() < 0) {
                    throw error(f + ".shape", s + " is not a list of non-negative integers");
                }
                out.add(n.asLong());
            }
            return out;
        }

        /** The stored shape of a Q4_K_M tensor: its rows padded to whole blocks, in the layouts Strata can read. */
        private List<Long> q4kStoredShape(List<Long> shape, String layout, String f) {
            int bs = DType.Q4_K.blockSize();
            if (shape.isEmpty()) {
                throw error(f + ".shape", "a Q4_K_M tensor needs at least one dimension");
            }
            long cols = shape.getLast();
            if (layout == null || layout.equals("flat")) {
                if (cols % bs != 0) {
                    throw error(f + ".layout", "Q4_K_M without a row layout runs its blocks across rows of " + cols
                            + " elements; Strata reads Q4_K_M only as whole-block rows (DOPPLER q4kLayout 'row')");
                }
                return shape;
            }
            if (layout.equals("col")) {
                throw error(f + ".layout", "Q4_K_M in layout 'col' (blocks along the transposed weight) is not"
                        + " supported; convert with DOPPLER q4kLayout 'row'");
            }
            if (!layout.equals("row")) {
                throw error(f + ".layout", "'" + layout + "' is not a Q4_K_M layout Strata knows (row)");
            }
            List<Long> stored = new ArrayList<>(shape);
            stored.set(stored.size() - 1, Math.ceilDiv(cols, bs) * bs);
            return stored;
        }

        /**
         * An expert's group must name the layer and expert its tensor name says, and only experts have one; the
         * expert it names, if any.
         */
        private Optional<ExpertId> checkExpertGroup(String name, String group, String role, String f) {
            Matcher g = EXPERT_GROUP.matcher(group);
            Optional<ExpertId> byName = TensorNaming.expert(name);
            if (g.matches()) {
                ExpertId id = new ExpertId(Integer.parseInt(g.group(1)), Integer.parseInt(g.group(2)));
                if (byName.isEmpty() || !byName.get().equals(id) || TensorNaming.expertProjection(name).isEmpty()) {
                    throw error(f + ".group", "'" + group + "' says expert " + id.expert() + " of layer "
                            + id.layer() + ", but the name is " + byName.map(b -> "expert " + b.expert() + " of layer "
                            + b.layer()).orElse("not an expert projection's"));
                }
                if (!role.equals(Role.EXPERT.json())) {
                    throw error(f + ".role", "'" + role + "' for a tensor of expert group '" + group + "'");
                }
                return Optional.of(id);
            }
            if (byName.isPresent() && TensorNaming.expertProjection(name).isPresent()) {
                throw error(f + ".group", "'" + group + "' is not layer.L.expert.E for expert tensor " + name);
            }
            return Optional.empty();
        }

        /**
         * The family whose expert tensor names these are (the first projection of every expert tensor must be one
         * family's spelling); null for a dense model or names more than one family could have written.
         */
        private ModelFamily family(ObjectNode tensors) {
            Set<ModelFamily> candidates = null;
            for (Map.Entry<String, JsonNode> e : tensors.properties()) {
                String name = e.getKey();
                Optional<ExpertId> id = TensorNaming.expert(name);
                Optional<ExpertProjection> p = TensorNaming.expertProjection(name);
                if (id.isEmpty() || p.isEmpty()) {
                    continue;
                }
                Set<ModelFamily> fits = new LinkedHashSet<>();
                for (ModelFamily f : ModelFamily.values()) {
                    if (f != ModelFamily.OTHER && f.expertTensorName(id.get().layer(), id.get().expert(), p.get())
                            .equals(name)) {
                        fits.add(f);
                    }
                }
                if (candidates == null) {
                    candidates = fits;
                } else {
                    candidates.retainAll(fits);
                }
            }
            if (candidates == null) {
                unsupported.add("a dense model (no expert tensors): Strata's decoder runs only the MoE families "
                        + String.join(", ", ModelFamily.decoderSupportedTypes()));
                return null;
            }
            if (candidates.size() == 1) {
                ModelFamily f = candidates.iterator().next();
                if (!f.decoderSupported()) {
                    unsupported.add("a " + f.modelType() + " model: Strata's decoder runs only "
                            + String.join(", ", ModelFamily.decoderSupportedTypes()));
                }
                return f;
            }
            unsupported.add("the expert tensor names fit " + (candidates.isEmpty() ? "no model family"
                    : "several model families " + candidates.stream().map(ModelFamily::modelType).toList())
                    + "; DOPPLER's manifest does not say which");
            return null;
        }

        private ObjectNode moeConfig(JsonNode moe, ObjectNode tensors, ModelFamily family) {
            if (!moe.isObject()) {
                throw error("moeConfig", "not an object");
            }
            unknownFields(moe, MOE_FIELDS, "moeConfig");
            String format = text(moe, "expertFormat", "moeConfig.expertFormat");
            if (!format.equals("mixtral")) {
                unsupported.add("moeConfig.expertFormat '" + format + "': Strata reads DOPPLER's per-expert"
                        + " 'mixtral' format only");
            }
            Map<ExpertId, Long> bytes = new HashMap<>();
            Set<Integer> layers = new TreeSet<>();
            for (Map.Entry<String, JsonNode> e : tensors.properties()) {
                Optional<ExpertId> id = TensorNaming.expert(e.getKey());
                if (id.isPresent() && TensorNaming.expertProjection(e.getKey()).isPresent()) {
                    bytes.merge(id.get(), e.getValue().get("size").asLong(), Long::sum);
                    layers.add(id.get().layer());
                }
            }
            ObjectNode o = JSON.objectNode();
            o.put("numExperts", nonNegative(moe, "numExperts", "moeConfig.numExperts"));
            o.put("numExpertsPerToken", nonNegative(moe, "numExpertsPerToken", "moeConfig.numExpertsPerToken"));
            o.put("expertFormat", family != null ? family.modelType() : format);
            o.put("expertBytes", bytes.values().stream().mapToLong(Long::longValue).max().orElse(0));
            o.put("numMoeLayers", layers.size());
            return o;
        }

        /** Records in {@link #unsupported} every inference setting Strata's llama-style decoder does not compute. */
        private void checkInference(ObjectNode arch, ModelFamily family) {
            for (String a : ARCH_ABSENT) {
                notDefault("architecture." + a, arch.get(a));
            }
            JsonNode inf = d.get("inference");
            if (inf == null || inf.isNull()) {
                return;
            }
            for (String p : INFERENCE_PIPELINES) {
                notDefault("inference." + p, inf.get(p));
            }
            for (String section : INFERENCE_SECTIONS) {
                JsonNode s = inf.path(section);
                for (Map.Entry<String, JsonNode> e : s.properties()) {
                    String path = "inference." + section + "." + e.getKey();
                    JsonNode v = e.getValue();
                    switch (section + "." + e.getKey()) {
                        // what the decoder does, or values carried into the config
                        case "attention.causal", "normalization.postAttentionNorm", "ffn.gatedActivation" ->
                                expect(path, v, true);
                        case "attention.queryKeyNorm" -> expect(path, v, family != null && family.hasQkNorm());
                        case "attention.queryKeyNormType" -> expectIfSet(path, v, "rmsnorm");
                        case "attention.queryKeyNormAxis" -> expectIfSet(path, v, "head");
                        case "attention.queryPreAttnScalar" -> {
                            if (!v.isNull() && v.asDouble() != arch.path("headDim").asDouble()) {
                                unsupported.add(path + " = " + v + " (the decoder scales by 1/sqrt(headDim "
                                        + arch.path("headDim") + "))");
                            }
                        }
                        case "ffn.activation" -> expect(path, v, "silu");
                        case "ffn.branchMode" -> expectIfSet(path, v, "auto");
                        case "layerPattern.type" -> expectIfSet(path, v, "uniform");
                        case "rope.ropeScalingFactor", "rope.ropeLocalScalingFactor", "output.logitInputScale",
                             "layerPattern.residualBranchScale" -> {
                            if (!v.isNull() && v.asDouble() != 1) {
                                unsupported.add(path + " = " + v);
                            }
                        }
                        case "output.embeddingVocabSize" -> {
                            if (!v.isNull() && v.asLong() != arch.path("vocabSize").asLong()) {
                                unsupported.add(path + " = " + v + " differs from vocabSize");
                            }
                        }
                        case "rope.ropeTheta" -> {
                            if (arch.hasNonNull("ropeTheta") && v.asDouble() != arch.get("ropeTheta").asDouble()) {
                                throw error(path, v + " differs from architecture.ropeTheta "
                                        + arch.get("ropeTheta"));
                            }
                        }
                        case "normalization.rmsNormEps", "output.tieWordEmbeddings" -> {
                            // carried into the config
                        }
                        default -> notDefault(path, v);
                    }
                }
            }
        }

        private ObjectNode config(ObjectNode arch, JsonNode moe, ModelFamily family) {
            ObjectNode c = JSON.objectNode();
            boolean runnable = family != null && unsupported.isEmpty();
            c.put("model_type", runnable ? family.modelType() : d.path("modelType").asText("transformer"));
            if (runnable) {
                c.putArray("architectures").add(family.hfArchitecture());
            }
            putInt(c, "hidden_size", arch, "hiddenSize");
            putInt(c, "intermediate_size", arch, "intermediateSize");
            putInt(c, "num_hidden_layers", arch, "numLayers");
            putInt(c, "num_attention_heads", arch, "numAttentionHeads");
            putInt(c, "num_key_value_heads", arch, "numKeyValueHeads");
            putInt(c, "head_dim", arch, "headDim");
            putInt(c, "vocab_size", arch, "vocabSize");
            putInt(c, "max_position_embeddings", arch, "maxSeqLen");
            JsonNode theta = arch.hasNonNull("ropeTheta") ? arch.get("ropeTheta")
                    : d.path("inference").path("rope").get("ropeTheta");
            if (theta != null && !theta.isNull()) {
                c.put("rope_theta", number(theta, "architecture.ropeTheta"));
            }
            JsonNode eps = d.path("inference").path("normalization").get("rmsNormEps");
            if (eps != null && !eps.isNull()) {
                c.put("rms_norm_eps", number(eps, "inference.normalization.rmsNormEps"));
            }
            JsonNode tie = d.path("inference").path("output").get("tieWordEmbeddings");
            c.put("tie_word_embeddings", tie != null && tie.asBoolean(false));
            if (moe != null && !moe.isNull()) {
                ModelFamily keys = family != null ? family : ModelFamily.MIXTRAL;
                c.put(keys.expertCountKey(), moe.path("numExperts").asInt());
                c.put("num_experts_per_tok", moe.path("numExpertsPerToken").asInt());
                if (!keys.expertFfnKey().equals("intermediate_size")) {
                    c.set(keys.expertFfnKey(), moe.hasNonNull("expertIntermediateSize")
                            ? moe.get("expertIntermediateSize") : arch.get("intermediateSize"));
                }
            }
            String torchDtype = switch (d.path("quantization").asText("").toUpperCase(Locale.ROOT)) {
                case "F32" -> "float32";
                case "F16" -> "float16";
                case "BF16" -> "bfloat16";
                default -> null;
            };
            if (torchDtype != null) {
                c.put("torch_dtype", torchDtype);
            }
            if (d.has("eos_token_id")) {
                c.set("eos_token_id", d.get("eos_token_id"));
            }
            if (!unsupported.isEmpty()) {
                c.put(Manifest.CONFIG_UNSUPPORTED, "DOPPLER manifest of "
                        + d.path("modelId").asText("a model") + ": " + String.join("; ", unsupported));
            }
            return c;
        }

        private void expect(String path, JsonNode v, boolean want) {
            if (!v.isBoolean() || v.asBoolean() != want) {
                unsupported.add(path + " = " + v + " (the decoder has " + want + ")");
            }
        }

        private void expect(String path, JsonNode v, String want) {
            if (!v.isTextual() || !v.asText().equals(want)) {
                unsupported.add(path + " = " + v + " (the decoder has " + want + ")");
            }
        }

        private void expectIfSet(String path, JsonNode v, String want) {
            if (!v.isNull()) {
                expect(path, v, want);
            }
        }

        /** A setting the decoder knows nothing of must be absent, null or false. */
        private void notDefault(String path, JsonNode v) {
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean())) {
                unsupported.add(path + " = " + v);
            }
        }

        private void putInt(ObjectNode c, String key, ObjectNode arch, String field) {
            JsonNode n = arch.get(field);
            if (n == null || n.isNull()) {
                return;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
                throw error("architecture." + field, n + " is not a non-negative integer");
            }
            c.put(key, n.asInt());
        }

        private ObjectNode object(String field) {
            JsonNode n = d.get(field);
            if (n == null || !n.isObject()) {
                throw error(field, "missing or not an object");
            }
            return (ObjectNode) n;
        }

        private void copyText(ObjectNode out, String field) {
            JsonNode n = d.get(field);
            if (n != null && !n.isNull()) {
                out.put(field, text(d, field, field));
            }
        }

        private String text(JsonNode o, String key, String field) {
            JsonNode n = o.get(key);
            if (n == null || !n.isTextual()) {
                throw error(field, n == null || n.isNull() ? "missing" : n + " is not a string");
            }
            return n.asText();
        }

        private long nonNegative(JsonNode o, String key, String field) {
            JsonNode n = o.get(key);
            if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
                throw error(field, n == null || n.isNull() ? "missing" : n + " is not a non-negative integer");
            }
            return n.asLong();
        }

        private double number(JsonNode n, String field) {
            if (!n.isNumber()) {
                throw error(field, n + " is not a number");
            }
            return n.asDouble();
        }

        private void unknownFields(JsonNode o, Set<String> known, String f) {
            for (String k : (Iterable<String>) o::fieldNames) {
                if (!known.contains(k)) {
                    throw error(f + "." + k, "a DOPPLER field Strata does not understand");
                }
            }
        }

        private ManifestException error(String field, String why) {
            return new ManifestException(src + field + ": " + why);
        }
    }
}
