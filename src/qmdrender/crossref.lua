-- Quarto-style numbering of figures (#fig-x) and tables (#tbl-x), and
-- resolution of @fig-x / @tbl-x references, for pandoc 3 (HTML and Typst).
-- Pass 1 numbers the floats in document order and prefixes their captions
-- ("Figure 1: ..."); pass 2 turns each reference into a link "Figure 1".
-- A reference to an unknown label stops the render.
-- For Typst, a table whose unbreakable words cannot fit side by side on a
-- portrait page is set on a landscape page of its own; for HTML, tables lose
-- their relative column widths.

-- characters of table text (7.5pt, see header.typ) across an A4 portrait text width
local PORTRAIT_CHARS = 120
-- characters of cell padding per column
local CELL_PAD = 2

local kinds = { fig = "Figure", tbl = "Table" }
local count = { fig = 0, tbl = 0 }
local numbers = {}

local function kind_of(id)
  local prefix = id:match("^(%a+)%-")
  return prefix and kinds[prefix] and prefix or nil
end

local function number(el)
  local kind = kind_of(el.identifier or "")
  if not kind then
    return nil
  end
  if numbers[el.identifier] then
    error("label #" .. el.identifier .. " is used twice")
  end
  count[kind] = count[kind] + 1
  local text = kinds[kind] .. " " .. count[kind]
  numbers[el.identifier] = text
  local prefix = { pandoc.Str(kinds[kind]), pandoc.Space(), pandoc.Str(count[kind] .. ":"), pandoc.Space() }
  if el.t == "Div" then
    -- a float without a table (a cell that printed none): its last paragraph is the caption
    local last = el.content[#el.content]
    if last and (last.t == "Para" or last.t == "Plain") then
      last.content = pandoc.Inlines(prefix) .. last.content
    else
      el.content:insert(pandoc.Para(prefix))
    end
    return el
  end
  local long = el.caption.long
  if #long == 0 then
    el.caption.long = { pandoc.Plain(prefix) }
  else
    long[1].content = pandoc.Inlines(prefix) .. long[1].content
  end
  return el
end

local function reference(cite)
  if #cite.citations ~= 1 then
    return nil
  end
  local id = cite.citations[1].id
  if not kind_of(id) then
    return nil
  end
  local text = numbers[id]
  if not text then
    error("reference @" .. id .. " points to no figure or table labelled #" .. id)
  end
  return pandoc.Link(text, "#" .. id)
end

local function longest_word(cell)
  local best = 0
  for word in pandoc.utils.stringify(cell.contents):gmatch("[^ ]+") do
    best = math.max(best, utf8.len(word) or #word)
  end
  return best
end

local function too_wide(tbl)
  local widths = {}
  local function measure(rows)
    for _, row in ipairs(rows) do
      for i, cell in ipairs(row.cells) do
        widths[i] = math.max(widths[i] or 0, longest_word(cell))
      end
    end
  end
  measure(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    measure(body.body)
  end
  local total = 0
  for _, w in ipairs(widths) do
    total = total + w + CELL_PAD
  end
  return total > PORTRAIT_CHARS
end

-- wide tables (with the headings right before them) on landscape pages
local function landscape(doc)
  if not FORMAT:match("typst") then
    return nil
  end
  local blocks = pandoc.Blocks({})
  for _, block in ipairs(doc.blocks) do
    if block.t == "Table" and too_wide(block) then
      local moved = pandoc.Blocks({})
      while #blocks > 0 and blocks[#blocks].t == "Header" do
        moved:insert(1, blocks:remove())
      end
      blocks:insert(pandoc.RawBlock("typst", "#page(flipped: true)["))
      blocks:extend(moved)
      blocks:insert(block)
      blocks:insert(pandoc.RawBlock("typst", "]"))
    else
      blocks:insert(block)
    end
  end
  doc.blocks = blocks
  return doc
end

-- in HTML the browser sizes the columns to their content (the relative widths of
-- the markdown are meant for the fixed width of a PDF page)
local function natural_widths(tbl)
  if not FORMAT:match("html") then
    return nil
  end
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { spec[1], pandoc.ColWidthDefault }
  end
  return tbl
end

-- two walks of the document (each costs a tenth of a second on a full report): the
-- second resolves the references and, after them (Pandoc last), lays out the wide tables
return {
  { traverse = "topdown", Figure = number, Table = number, Div = number },
  { Cite = reference, Table = natural_widths, Pandoc = landscape },
}
